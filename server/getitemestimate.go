package server

import (
	"errors"
	"net/http"
	"strings"

	"easbridge/server/eas"
	"easbridge/server/wbxml"
)

// cmdGetItemEstimate implements GetItemEstimate, MS-ASCMD 2.2.1.9: for each
// collection, how many changes the next Sync with the given key would
// send. One Response per Collection, each with its own Status
// (2.2.3.177.7).
//
// The two request forms are both accepted whatever the version says:
// 14.0+ (airsync:SyncKey, CollectionId, airsync:ConversationMode,
// airsync:Options with FilterType/Class/MaxItems) and 12.1 (Class,
// CollectionId, airsync:FilterType, airsync:SyncKey directly in the
// Collection).
func (s *Server) cmdGetItemEstimate(rq *request) (*wbxml.Element, error) {
	ns := wbxml.NSItemEstimate
	is, ok := rq.session.(ItemSync)
	if !ok {
		return s.notSupported(rq, ns, "GetItemEstimate")
	}
	colls := rq.body.Child(ns, "Collections").All(ns, "Collection")
	if len(colls) == 0 || len(colls) > maxSyncCollections {
		// Nothing to estimate: the request does not follow the schema.
		rq.easStatus = eas.StatusInvalidXML
		if !rq.version.AtLeast(eas.V140) {
			return nil, httpErr(http.StatusBadRequest, "GetItemEstimate without collections")
		}
		return wbxml.New(ns, "GetItemEstimate", wbxml.Int(ns, "Status", int(eas.StatusInvalidXML))), nil
	}
	resp := wbxml.New(ns, "GetItemEstimate")
	rq.easStatus = eas.EstimateStatusSuccess
	for _, c := range colls {
		id := idText(c, ns, "CollectionId")
		if id == "" {
			id = idText(c, wbxml.NSAirSync, "CollectionId") // seen from some clients
		}
		key := strings.TrimSpace(idText(c, wbxml.NSAirSync, "SyncKey"))
		opts := ItemOptions{Conflict: 1}
		if o := c.Child(wbxml.NSAirSync, "Options"); o != nil {
			opts = parseItemOptions(pickOptions(c.All(wbxml.NSAirSync, "Options"), idText(c, ns, "Class")))
		} else {
			// 12.1: FilterType (AirSync) and Class (GetItemEstimate) sit in
			// the Collection itself.
			opts = parseItemOptions(c)
		}
		if opts.Class == "" {
			opts.Class = idText(c, ns, "Class")
		}
		var st eas.Status
		n := 0
		switch {
		case id == "":
			st = eas.EstimateStatusInvalidCollection
		case key == "":
			st = eas.EstimateStatusInvalidSyncKey
		case key == "0":
			// The collection has not been synced yet (status 3: "the
			// synchronization state has not been primed").
			st = eas.EstimateStatusNotPrimed
		default:
			var err error
			n, err = is.ItemEstimate(rq.ctx, rq.device.ID, id, key, opts)
			st = s.estimateErrStatus(rq, id, err)
		}
		r := wbxml.New(ns, "Response", wbxml.Int(ns, "Status", int(st)))
		coll := wbxml.New(ns, "Collection", wbxml.Text(ns, "CollectionId", id))
		if st == eas.EstimateStatusSuccess {
			coll.Add(wbxml.Int(ns, "Estimate", max(n, 0)))
		}
		if id != "" {
			r.Add(coll)
		}
		if st != eas.EstimateStatusSuccess {
			rq.easStatus = st
		}
		resp.Add(r)
	}
	return resp, nil
}

// estimateErrStatus maps an ItemEstimate error to the Response Status,
// MS-ASCMD 2.2.3.177.7; server failures, which that table lacks, get the
// common codes 111 (transient) and 110.
func (s *Server) estimateErrStatus(rq *request, id string, err error) eas.Status {
	if err == nil {
		return eas.EstimateStatusSuccess
	}
	if st, ok := eas.StatusOf(err); ok {
		return st
	}
	switch {
	case errors.Is(err, eas.ErrInvalidSyncKey):
		return eas.EstimateStatusInvalidSyncKey
	case errors.Is(err, eas.ErrNotFound):
		return eas.EstimateStatusInvalidCollection
	case errors.Is(err, eas.ErrBackendUnavailable):
		s.log.Warn("server: item estimate: backend unavailable", "device", rq.device.ID, "collection", id, "err", err)
		return eas.StatusServerErrorRetryLater
	}
	s.log.Error("server: item estimate failed", "device", rq.device.ID, "collection", id, "err", err)
	return eas.StatusServerError
}
