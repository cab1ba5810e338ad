// Package wbxml encodes and decodes the WAP Binary XML dialect of Exchange
// ActiveSync ([MS-ASWBXML], on top of WAP-192-WBXML 1.3), and converts the
// same trees to and from XML for the inspector (easbridge wbxml) and the
// live log.
//
// A document is a tree of *Element values. Each element is a tag of one of
// the 26 EAS code pages, named by its namespace (Space, e.g. NSAirSync) and
// tag name (Name, e.g. "Sync"), and holds either child elements, or text
// (STR_I), or opaque bytes (OPAQUE), or nothing:
//
//	root := wbxml.New(wbxml.NSFolderHierarchy, "FolderSync",
//		wbxml.Int(wbxml.NSFolderHierarchy, "Status", 1),
//		wbxml.Text(wbxml.NSFolderHierarchy, "SyncKey", "1"))
//	b, err := wbxml.Encode(root)   // 03 01 6A 00 …
//	tree, err := wbxml.Decode(b)
//	key := tree.ChildText(wbxml.NSFolderHierarchy, "SyncKey")
//
// # Tables
//
// The tag tables (tables.go) are written by hand from [MS-ASWBXML]
// 2.1.2.1.1–2.1.2.1.26 for protocol 16.1, code pages 0 (AirSync) to 25
// (Find), plus the tags that only protocol 2.5 used, so that old clients
// can still be read. Namespace strings are those of Microsoft's XML schemas
// ([MS-ASCMD] section 6 and the schemas of [MS-ASAIRS], [MS-ASCAL],
// [MS-ASCNTC], [MS-ASEMAIL], [MS-ASPROV], …): "AirSync", "GAL",
// "GetItemEstimate", "RightsManagement", …. A handful of tags are spelled
// two ways in Microsoft's documents; the other spelling is an alias that
// Lookup, Encode and FromXML accept (AllowWifi, DeviceEncryptionEnabled,
// CheckCrl, GALSearchCriterion).
//
// # Wire format and invariants
//
//   - Encode writes the header 03 01 6A 00 (WBXML 1.3, unknown public
//     identifier, UTF-8, no string table) and a canonical body: a
//     SWITCH_PAGE right before the first tag of another page, one STR_I per
//     text, one OPAQUE per opaque value, the content bit only on tags with
//     content. Encode(Decode(b)) == b for every canonical b, and
//     Decode(Encode(t)) equals t (see Equal) for every tree Encode accepts.
//   - Text is kept byte for byte, never trimmed. STR_I cannot carry a NUL
//     byte, so Encode refuses such text. The decoder does not check that
//     text is valid UTF-8: the bytes are passed through, and the XML form
//     falls back to base64 for text XML cannot hold.
//   - Decode accepts WBXML 1.1–1.3 headers with charset UTF-8 and refuses
//     everything EAS does not use, with a *DecodeError that wraps one of the
//     Err* values and gives the byte offset: string tables (and STR_T),
//     attributes, ENTITY/LITERAL/EXT/PI tokens, unknown code pages and
//     tokens, malformed mb_u_int32, truncated input, data after the root,
//     elements mixing children and text. Nesting is limited to MaxDepth
//     (default 64) levels and documents to MaxElements elements and MaxSize
//     bytes.
//   - Decode allocates little: a quick pre-scan counts the tags and the
//     opaque bytes, then elements, children slices and opaque data are
//     carved from slabs of that size (with capped capacities, so appending
//     to a Children slice never overwrites a neighbour). All texts are
//     substrings of one copy of the input: the tree does not alias the
//     caller's buffer, but a text kept for long keeps that copy alive
//     (strings.Clone it if that matters).
//   - Encode makes one pass to validate the tree and compute the exact
//     output size, then writes into a buffer of that size.
//   - ToXML/FromXML are inverses: for every tree Encode accepts,
//     FromXML(ToXML(t)) equals t; see the comment in xml.go for how opaque
//     data, unrepresentable text and white space are written.
//
// # Interoperability
//
// The tests compare this codec with libwbxml's wbxml2xml and xml2wbxml on
// the golden documents in testdata/; libwbxml_test.go lists every place
// where libwbxml spells a tag or namespace differently or lacks one (it has
// no code page 25, for instance).
package wbxml
