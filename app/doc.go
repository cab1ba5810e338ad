// Package app wires easbridge together and owns its lifecycle: settings,
// the state store, the sync engine, TLS, the HTTP listener, the demo
// account, the exchange log bus and graceful shutdown. The UI and the
// headless command both drive a Runtime from here.
package app
