//go:build unix

package soak

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"

	imap "github.com/emersion/go-imap/v2"

	"easbridge/server/easclient"
	"easbridge/server/wbxml"
	"easbridge/sync/testenv"
)

// TestSoak is the fault-injection soak; see the package comment.
// SOAK_SEED=n reproduces a run (the plan of every round follows from the
// seed; the timing of the faults varies), SOAK_ROUNDS=n sets its length.
func TestSoak(t *testing.T) {
	seed := envInt(t, "SOAK_SEED", time.Now().UnixNano()%1_000_000_000)
	rounds := int(envInt(t, "SOAK_ROUNDS", 20))
	t.Logf("soak: SOAK_SEED=%d SOAK_ROUNDS=%d", seed, rounds)
	s := newSoak(t, seed)
	start := time.Now()
	s.compare(0, "")
	for n := 1; n <= rounds; n++ {
		s.round(n)
		if n%50 == 0 {
			t.Logf("soak: round %d after %v", n, time.Since(start).Round(time.Second))
		}
	}
	t.Logf("soak: SOAK_SEED=%d: %d rounds in %v, 0 differences\n%s", seed, rounds, time.Since(start).Round(time.Second), s.stats)
}

func envInt(t *testing.T, name string, def int64) int64 {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

// stats counts faults, retries and notes by kind.
type stats struct {
	mu gosync.Mutex
	n  map[string]int
}

func (s *stats) add(kind string) {
	s.mu.Lock()
	s.n[kind]++
	s.mu.Unlock()
}

func (s *stats) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.n))
	for k := range s.n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-45s %d\n", k, s.n[k])
	}
	return b.String()
}

// Process faults, one per round from a shuffled cycle.
const (
	procNone     = "none"
	procKill     = "easbridge killed (SIGKILL) and restarted"
	procDovecot  = "Dovecot restarted"
	procRadicale = "Radicale restarted"
)

var procCycle = []string{procNone, procKill, procKill, procDovecot, procRadicale, procNone, procKill, procNone}

type soak struct {
	t     *testing.T
	seed  int64
	rng   *rand.Rand
	up    *upstream
	srv   *serverProc
	devs  []*device
	users []string
	stats *stats
	next  int // unique item number
	cycle []string
	truth map[string][]truthItem // user → truth after the last round

	upMu gosync.RWMutex // other clients' operations hold it shared; restarts exclusively

	jmu     gosync.Mutex
	journal []string // what the current round did, shown when it fails
}

func (s *soak) note(format string, args ...any) {
	s.jmu.Lock()
	s.journal = append(s.journal, fmt.Sprintf(format, args...))
	s.jmu.Unlock()
}

func newSoak(t *testing.T, seed int64) *soak {
	dc := testenv.StartDovecot(t, testenv.DovecotOptions{})
	rad := testenv.StartRadicale(t, testenv.RadicaleOptions{})
	s := &soak{
		t: t, seed: seed, rng: rand.New(rand.NewPCG(uint64(seed), 1)),
		up:    &upstream{dc: dc, rad: rad, hc: &http.Client{Timeout: 30 * time.Second}},
		users: []string{"alice", "bob"}, stats: &stats{n: map[string]int{}},
	}
	for _, u := range s.users {
		rad.MakeCalendar(t, u, roleCalendar, "Calendar", "VEVENT")
		rad.MakeAddressBook(t, u, roleContacts, "Contacts")
		for range 3 {
			s.must(s.up.appendMail(u, roleInbox, s.newKey("M")))
		}
		s.must(s.up.appendMail(u, roleArchive, s.newKey("M")))
		for _, role := range []string{roleCalendar, roleContacts} {
			for range 2 {
				key := s.newKey(map[string]string{roleCalendar: "E", roleContacts: "C"}[role])
				data, ct := davObject(role, key, 1)
				s.must(s.up.davPut(u, davPath(u, role)+key+".x", data, ct))
			}
		}
	}
	s.srv = startServer(t, dc, rad)
	for i, spec := range []struct{ user, id string }{{"alice", "soakA1"}, {"alice", "soakA2"}, {"bob", "soakB1"}} {
		d := &device{
			name: spec.user + "/" + spec.id, user: spec.user, addr: s.srv.addr, stats: s.stats, note: s.note,
			rng: rand.New(rand.NewPCG(uint64(seed), uint64(100+i))), colls: map[string]*dcoll{},
		}
		d.c = easclient.New("http://"+s.srv.addr, spec.user, s.up.password(spec.user), spec.id)
		d.c.HTTP = &http.Client{Timeout: 60 * time.Second}
		s.setupDevice(d)
		s.devs = append(s.devs, d)
	}
	return s
}

func (s *soak) must(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("soak (SOAK_SEED=%d): %v", s.seed, err)
	}
}

func (s *soak) newKey(prefix string) string {
	s.next++
	return prefix + strconv.Itoa(s.next)
}

// setupDevice provisions a phone, syncs the hierarchy and every watched
// collection from key 0.
func (s *soak) setupDevice(d *device) {
	ctx := context.Background()
	if _, err := d.c.Provision(ctx); err != nil {
		s.t.Fatal(err)
	}
	_, folders, r, err := d.c.FolderSync(ctx, "0")
	if err != nil || r.Status() != 1 {
		s.t.Fatalf("%s: FolderSync: %v", d.name, err)
	}
	for _, f := range folders {
		role := ""
		switch {
		case f.Type == 2:
			role = roleInbox
		case f.DisplayName == "Archive" && f.Type == 12:
			role = roleArchive
		case f.Type == 8 || f.Type == 13:
			role = roleCalendar
		case f.Type == 9 || f.Type == 14:
			role = roleContacts
		}
		if role != "" {
			d.colls[role] = &dcoll{role: role, id: f.ServerID, key: "0", items: map[string]entry{}}
		}
	}
	for _, role := range []string{roleInbox, roleArchive, roleCalendar, roleContacts} {
		dc := d.colls[role]
		if dc == nil {
			s.t.Fatalf("%s: no %s folder in %+v", d.name, role, folders)
		}
		if _, err := d.syncColl(ctx, dc, nil); err != nil { // key 0 → 1
			s.t.Fatal(err)
		}
		if _, err := d.syncColl(ctx, dc, nil); err != nil {
			s.t.Fatal(err)
		}
	}
}

// phoneOp is one change a phone makes; serverOp one another client makes.
type phoneOp struct {
	kind string // read, flag, delete, move, add, change
	role string
	sid  string // ServerId (add: ClientId)
	key  string
	ver  int
	on   bool
	dst  string // move
}

type serverOp struct {
	user, kind, role string // kind: append, seen, flagged, expunge, move, put, bump, remove
	key              string
	item             truthItem
	on               bool
	dst              string
}

// expectation is the state a round must leave for one key that only one
// actor touched: gone, or present with these values.
type expectation struct {
	user, key, what string
	check           func(items []truthItem) bool
}

func (s *soak) round(n int) {
	t := s.t
	if n%len(procCycle) == 1 || s.cycle == nil {
		s.cycle = append([]string(nil), procCycle...)
		s.rng.Shuffle(len(s.cycle), func(i, j int) { s.cycle[i], s.cycle[j] = s.cycle[j], s.cycle[i] })
	}
	proc := s.cycle[(n-1)%len(procCycle)]
	s.journal = nil
	owners := map[string]int{} // user/key → actors
	own := func(user, key string) bool {
		k := user + "/" + key
		if owners[k] > 0 && s.rng.IntN(10) != 0 {
			return false // mostly one actor per item; sometimes a conflict
		}
		owners[k]++
		return true
	}
	// Plan.
	plans := make([][]phoneOp, len(s.devs))
	for i, d := range s.devs {
		d.rng = rand.New(rand.NewPCG(uint64(s.seed), uint64(n*16+i)))
		plans[i] = s.planPhone(d, own)
	}
	sops := s.planServer(own)
	for i, d := range s.devs {
		s.note("plan %s: %+v", d.name, plans[i])
	}
	s.note("plan other clients: %+v", sops)

	// Run: phones and other clients at once, the process fault in between.
	var wg gosync.WaitGroup
	errs := make([]error, len(s.devs)+1)
	exps := make([][]expectation, len(s.devs)+1)
	for i, d := range s.devs {
		d.faults = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			exps[i], errs[i] = s.runPhone(d, plans[i])
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		exps[len(s.devs)], errs[len(s.devs)] = s.runServer(sops)
	}()
	time.Sleep(time.Duration(s.rng.IntN(150)) * time.Millisecond)
	s.stats.add("process: " + proc)
	s.note("process fault: %s", proc)
	switch proc {
	case procKill:
		s.srv.kill()
		s.srv.start()
	case procDovecot:
		s.upMu.Lock()
		s.up.dc.Restart(t)
		s.upMu.Unlock()
	case procRadicale:
		s.upMu.Lock()
		s.up.rad.Restart(t)
		s.upMu.Unlock()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			s.fail(n, proc, "%v", err)
		}
	}

	// Catch up and compare.
	for _, d := range s.devs {
		d.faults = false
	}
	s.compare(n, proc)
	for _, es := range exps {
		for _, e := range es {
			if owners[e.user+"/"+e.key] != 1 {
				continue // touched by two actors: either may win
			}
			var items []truthItem
			for _, it := range s.truth[e.user] {
				if it.Key == e.key {
					items = append(items, it)
				}
			}
			if !e.check(items) {
				s.fail(n, proc, "change undone: %s %s: %s; upstream has %v", e.user, e.key, e.what, items)
			}
		}
	}
	s.stats.add("rounds")
}

func (s *soak) fail(n int, proc, format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("soak: SOAK_SEED=%d round %d (process fault: %s): %s\neasbridge log: %s\nthe round:\n  %s\nfaults so far:\n%s",
		s.seed, n, proc, fmt.Sprintf(format, args...), s.srv.logPath, strings.Join(s.journal, "\n  "), s.stats)
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func sortedIDs(items map[string]entry) []string {
	ids := make([]string, 0, len(items))
	for id := range items {
		if !strings.HasPrefix(id, "client:") {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// planPhone picks up to three changes on the phone's own view.
func (s *soak) planPhone(d *device, own func(user, key string) bool) []phoneOp {
	var ops []phoneOp
	taken := map[string]bool{}
	for range d.rng.IntN(4) {
		role := pick(d.rng, []string{roleInbox, roleArchive, roleCalendar, roleContacts})
		dc := d.colls[role]
		ids := sortedIDs(dc.items)
		if role == roleCalendar || role == roleContacts {
			kinds := []string{"add", "add", "change", "change", "delete"}
			if len(ids) > 12 {
				kinds = append(kinds, "delete", "delete")
			}
			if k := pick(d.rng, kinds); k == "add" || len(ids) == 0 {
				key := s.newKey(map[string]string{roleCalendar: "E", roleContacts: "C"}[role])
				own(d.user, key)
				ops = append(ops, phoneOp{kind: "add", role: role, sid: d.name + "-" + key, key: key, ver: 1})
				continue
			} else {
				id := pick(d.rng, ids)
				e := dc.items[id]
				if taken[id] || !own(d.user, e.Key) {
					continue
				}
				taken[id] = true
				ops = append(ops, phoneOp{kind: k, role: role, sid: id, key: e.Key, ver: e.Ver + 1})
			}
			continue
		}
		if len(ids) == 0 {
			continue
		}
		id := pick(d.rng, ids)
		e := dc.items[id]
		if taken[id] || !own(d.user, e.Key) {
			continue
		}
		taken[id] = true
		op := phoneOp{kind: pick(d.rng, []string{"read", "read", "flag", "flag", "move", "move", "delete"}), role: role, sid: id, key: e.Key}
		switch op.kind {
		case "read":
			op.on = !e.Read
		case "flag":
			op.on = !e.Flagged
		case "move":
			op.dst = map[string]string{roleInbox: roleArchive, roleArchive: roleInbox}[role]
		}
		ops = append(ops, op)
	}
	return ops
}

// planServer picks up to four changes by other IMAP and DAV clients.
func (s *soak) planServer(own func(user, key string) bool) []serverOp {
	var ops []serverOp
	for range s.rng.IntN(5) {
		user := pick(s.rng, s.users)
		kind := pick(s.rng, []string{"append", "append", "seen", "flagged", "expunge", "move", "put", "bump", "bump", "remove"})
		role := pick(s.rng, []string{roleCalendar, roleContacts})
		davKind := kind == "put" || kind == "bump" || kind == "remove"
		var cands []truthItem
		for _, it := range s.truth[user] {
			mail := it.Role == roleInbox || it.Role == roleArchive
			if (davKind && it.Role == role) || (!davKind && mail) {
				cands = append(cands, it)
			}
		}
		op := serverOp{user: user, kind: kind, role: role}
		switch kind {
		case "append":
			op.role = pick(s.rng, []string{roleInbox, roleInbox, roleArchive})
			op.key = s.newKey("M")
			own(user, op.key)
			ops = append(ops, op)
			continue
		case "put":
			op.key = s.newKey(map[string]string{roleCalendar: "E", roleContacts: "C"}[role])
			own(user, op.key)
			ops = append(ops, op)
			continue
		}
		if len(cands) == 0 {
			continue
		}
		op.item = pick(s.rng, cands)
		op.key, op.role = op.item.Key, op.item.Role
		if !own(user, op.key) {
			continue
		}
		switch kind {
		case "seen":
			op.on = !op.item.Read
		case "flagged":
			op.on = !op.item.Flagged
		case "move":
			op.dst = map[string]string{roleInbox: roleArchive, roleArchive: roleInbox}[op.role]
		}
		ops = append(ops, op)
	}
	return ops
}

// runPhone sends a phone's changes: one Sync per collection (in a random
// order) with its commands, then MoveItems. It returns what each change
// that the server accepted must leave upstream.
func (s *soak) runPhone(d *device, ops []phoneOp) ([]expectation, error) {
	ctx := context.Background()
	ns := wbxml.NSAirSync
	cmds := map[string][]*wbxml.Element{}
	var moves []phoneOp
	for _, op := range ops {
		dc := d.colls[op.role]
		switch op.kind {
		case "read", "flag":
			cmds[op.role] = append(cmds[op.role], wbxml.New(ns, "Change", wbxml.Text(ns, "ServerId", op.sid), mailChange(false, op.kind, op.on)))
			e := dc.items[op.sid]
			if op.kind == "read" {
				e.Read = op.on
			} else {
				e.Flagged = op.on
			}
			dc.items[op.sid] = e
		case "delete":
			cmds[op.role] = append(cmds[op.role], wbxml.New(ns, "Delete", wbxml.Text(ns, "ServerId", op.sid)))
			delete(dc.items, op.sid)
		case "move":
			moves = append(moves, op)
		case "add":
			cmds[op.role] = append(cmds[op.role], wbxml.New(ns, "Add", wbxml.Text(ns, "ClientId", op.sid), appData(op.role, op.key, 1)))
			dc.items["client:"+op.sid] = entry{Role: op.role, Key: op.key, Ver: 1}
		case "change":
			cmds[op.role] = append(cmds[op.role], wbxml.New(ns, "Change", wbxml.Text(ns, "ServerId", op.sid), appData(op.role, op.key, op.ver)))
			e := dc.items[op.sid]
			e.Ver = op.ver
			dc.items[op.sid] = e
		}
	}
	refused := map[string]int{}
	roles := []string{roleInbox, roleArchive, roleCalendar, roleContacts}
	d.rng.Shuffle(len(roles), func(i, j int) { roles[i], roles[j] = roles[j], roles[i] })
	for _, role := range roles {
		if len(cmds[role]) == 0 && d.rng.IntN(2) == 0 {
			continue
		}
		ref, err := d.syncColl(ctx, d.colls[role], cmds[role])
		if err != nil {
			return nil, err
		}
		for k, v := range ref {
			refused[k] = v
			s.stats.add("note: phone change refused with status " + strconv.Itoa(v))
		}
	}
	if len(moves) > 0 {
		failed, err := d.moveItems(ctx, moves)
		if err != nil {
			return nil, err
		}
		for k, v := range failed {
			refused[k] = v
			s.stats.add("note: MoveItems status " + strconv.Itoa(v))
		}
	}
	var out []expectation
	for _, op := range ops {
		s.stats.add("phone side: " + op.kind + " (" + op.role + ")")
		id := op.sid
		if op.kind == "add" {
			id = "client:" + op.sid
		}
		if _, bad := refused[id]; bad {
			continue
		}
		out = append(out, phoneExpectation(d, op))
	}
	return out, nil
}

func phoneExpectation(d *device, op phoneOp) expectation {
	e := expectation{user: d.user, key: op.key, what: d.name + " " + op.kind}
	one := func(f func(it truthItem) bool) func([]truthItem) bool {
		return func(items []truthItem) bool { return len(items) == 1 && f(items[0]) }
	}
	switch op.kind {
	case "read":
		e.check = one(func(it truthItem) bool { return it.Read == op.on })
	case "flag":
		e.check = one(func(it truthItem) bool { return it.Flagged == op.on })
	case "delete":
		e.check = func(items []truthItem) bool { return len(items) == 0 }
	case "move":
		e.check = one(func(it truthItem) bool { return it.Role == op.dst })
	case "add", "change":
		e.check = one(func(it truthItem) bool { return it.Ver == op.ver })
	}
	e.what += fmt.Sprintf(" %+v", op)
	return e
}

// runServer makes the other clients' changes, retrying while Dovecot or
// Radicale restart.
func (s *soak) runServer(ops []serverOp) ([]expectation, error) {
	var out []expectation
	for _, op := range ops {
		var err error
		for attempt := 0; attempt < 100; attempt++ {
			s.upMu.RLock()
			err = s.serverOp(op)
			s.upMu.RUnlock()
			if err == nil {
				break
			}
			s.stats.add("retry: other client")
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			return nil, fmt.Errorf("other client %s %s %s: %w", op.user, op.kind, op.key, err)
		}
		s.stats.add("server side: " + op.kind)
		e := expectation{user: op.user, key: op.key, what: fmt.Sprintf("other client %s %s %s", op.kind, op.role, op.key)}
		one := func(f func(it truthItem) bool) func([]truthItem) bool {
			return func(items []truthItem) bool { return len(items) == 1 && f(items[0]) }
		}
		switch op.kind {
		case "append":
			e.check = one(func(it truthItem) bool { return it.Role == op.role })
		case "seen":
			e.check = one(func(it truthItem) bool { return it.Read == op.on })
		case "flagged":
			e.check = one(func(it truthItem) bool { return it.Flagged == op.on })
		case "expunge", "remove":
			e.check = func(items []truthItem) bool { return len(items) == 0 }
		case "move":
			e.check = one(func(it truthItem) bool { return it.Role == op.dst })
		case "put":
			e.check = one(func(it truthItem) bool { return it.Ver == 1 })
		case "bump":
			e.check = one(func(it truthItem) bool { return it.Ver == op.item.Ver+1 })
		}
		out = append(out, e)
	}
	return out, nil
}

func (s *soak) serverOp(op serverOp) error {
	u := s.up
	switch op.kind {
	case "append":
		return u.appendMail(op.user, op.role, op.key)
	case "seen":
		return u.storeFlag(op.user, op.role, op.item.UID, imap.FlagSeen, op.on)
	case "flagged":
		return u.storeFlag(op.user, op.role, op.item.UID, imap.FlagFlagged, op.on)
	case "expunge":
		return u.expunge(op.user, op.role, op.item.UID)
	case "move":
		return u.move(op.user, op.role, op.dst, op.item.UID)
	case "put":
		data, ct := davObject(op.role, op.key, 1)
		return u.davPut(op.user, davPath(op.user, op.role)+op.key+".x", data, ct)
	case "bump":
		_, ct := davObject(op.role, op.key, 1)
		return u.davPut(op.user, op.item.Href, bumpVersion(op.item.Data, op.key, op.item.Ver, op.item.Ver+1), ct)
	case "remove":
		return u.davDelete(op.user, op.item.Href)
	}
	return fmt.Errorf("unknown op %s", op.kind)
}

// compare lets every phone catch up (no faults) and compares its view with
// the truth; a view that differs gets two more chances a second apart
// before the round fails.
func (s *soak) compare(n int, proc string) {
	ctx := context.Background()
	s.truth = map[string][]truthItem{}
	for attempt := 0; ; attempt++ {
		var diffs []string
		for _, u := range s.users {
			items, err := s.up.truth(u)
			if err != nil {
				s.fail(n, proc, "read truth of %s: %v", u, err)
			}
			s.truth[u] = items
			seen := map[string]int{}
			for _, it := range items {
				seen[it.Role+"/"+it.Key]++
				if c := seen[it.Role+"/"+it.Key]; c > 1 || (it.Role == roleArchive && seen[roleInbox+"/"+it.Key] > 0) || (it.Role == roleInbox && seen[roleArchive+"/"+it.Key] > 0) {
					diffs = append(diffs, fmt.Sprintf("%s: duplicated upstream: %s", u, it.entry))
				}
			}
		}
		var wg gosync.WaitGroup
		errs := make([]error, len(s.devs))
		for i, d := range s.devs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, role := range []string{roleInbox, roleArchive, roleCalendar, roleContacts} {
					if _, err := d.syncColl(ctx, d.colls[role], nil); err != nil {
						errs[i] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				s.fail(n, proc, "catching up: %v", err)
			}
		}
		for _, d := range s.devs {
			var truth []entry
			for _, it := range s.truth[d.user] {
				truth = append(truth, it.entry)
			}
			for _, line := range diffMultisets(multiset(d.view()), multiset(truth)) {
				diffs = append(diffs, d.name+": "+line)
			}
		}
		if len(diffs) == 0 {
			if attempt > 0 {
				s.stats.add("note: converged after an extra catch-up")
			}
			return
		}
		if attempt == 2 {
			s.fail(n, proc, "%d differences:\n  %s", len(diffs), strings.Join(diffs, "\n  "))
		}
		time.Sleep(time.Second)
	}
}
