package mailconv

import (
	"html"
	"strings"
)

// HTML to plain text, for clients that ask for Type 1 when a message only
// has HTML, and for Preview. Deliberately simple (no DOM): tags are
// dropped, the content of head, style, script, title and template is
// skipped, block-level tags end lines, white space collapses like a
// browser does outside <pre>, entities are decoded (html.UnescapeString,
// the HTML5 entity table). It runs in one pass over the input.

// blockTags end the current line when they open or close.
var blockTags = map[string]bool{
	"p": true, "div": true, "br": true, "tr": true, "li": true, "ul": true, "ol": true,
	"table": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"blockquote": true, "hr": true, "pre": true, "section": true, "article": true,
	"header": true, "footer": true, "dl": true, "dt": true, "dd": true, "center": true,
	"address": true, "form": true, "nav": true, "aside": true, "main": true, "figure": true,
	"caption": true, "tbody": true, "thead": true, "tfoot": true, "body": true, "html": true,
}

// skipTags have content that is not text.
var skipTags = map[string]bool{"head": true, "style": true, "script": true, "title": true, "template": true, "xml": true}

type textWriter struct {
	sb      strings.Builder
	space   bool // a space is pending
	newline int  // newlines pending (0, 1 or 2)
	started bool // text was written
	pre     int  // inside <pre>
}

func (w *textWriter) text(s string) {
	if s == "" {
		return
	}
	s = html.UnescapeString(s)
	for _, r := range s {
		if w.pre == 0 && (r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f') {
			w.space = true
			continue
		}
		if w.pre > 0 && (r == '\n') {
			w.newline++
			continue
		}
		if w.pre > 0 && r == '\r' {
			continue
		}
		if w.started {
			switch {
			case w.newline > 0:
				n := w.newline
				if w.pre == 0 {
					n = min(n, 2)
				}
				for range n {
					w.sb.WriteString("\r\n")
				}
			case w.space:
				w.sb.WriteByte(' ')
			}
		}
		w.newline, w.space = 0, false
		w.started = true
		w.sb.WriteRune(r)
	}
}

// literal writes s as it is after the pending line breaks.
func (w *textWriter) literal(s string) {
	if w.started {
		for range w.newline {
			w.sb.WriteString("\r\n")
		}
		if w.newline == 0 && w.space {
			w.sb.WriteByte(' ')
		}
	}
	w.newline, w.space, w.started = 0, false, true
	w.sb.WriteString(s)
}

func (w *textWriter) lineBreak(n int) {
	if w.newline < n {
		w.newline = n
	}
	w.space = false
}

// htmlToText converts an HTML document or fragment to plain text with CRLF
// line ends.
func htmlToText(s string) string {
	var w textWriter
	w.sb.Grow(len(s) / 2)
	for len(s) > 0 {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			w.text(s)
			break
		}
		w.text(s[:lt])
		s = s[lt:]
		switch {
		case strings.HasPrefix(s, "<!--"):
			end := strings.Index(s[4:], "-->")
			if end < 0 {
				return w.sb.String()
			}
			s = s[4+end+3:]
			continue
		case strings.HasPrefix(s, "<!") || strings.HasPrefix(s, "<?"):
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return w.sb.String()
			}
			s = s[end+1:]
			continue
		}
		name, closing, end := tagName(s)
		if name == "" {
			// A "<" that opens no tag is text.
			w.text("<")
			s = s[1:]
			continue
		}
		if end < 0 {
			break // unterminated tag at the end (cut-off body)
		}
		s = s[end:]
		if skipTags[name] && !closing {
			// Skip to the matching close tag (no nesting for these).
			idx := indexFold(s, "</"+name)
			if idx < 0 {
				if name == "head" {
					// A head without end: keep going, the body
					// usually follows.
					continue
				}
				return w.sb.String()
			}
			s = s[idx:]
			if gt := strings.IndexByte(s, '>'); gt >= 0 {
				s = s[gt+1:]
			} else {
				s = ""
			}
			continue
		}
		switch name {
		case "br":
			// Each <br> ends a line; two make a blank line.
			w.newline = min(w.newline+1, 2)
			w.space = false
		case "p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol":
			w.lineBreak(2)
		case "pre":
			w.lineBreak(1)
			if closing {
				w.pre = max(0, w.pre-1)
			} else {
				w.pre++
			}
		case "li":
			w.lineBreak(1)
			if !closing {
				w.literal("- ")
			}
		case "td", "th":
			if !closing {
				w.space = true
			}
		default:
			if blockTags[name] {
				w.lineBreak(1)
			}
		}
	}
	return w.sb.String()
}

// tagName reads the tag at the start of s ("<name ...>" or "</name>"):
// its lower-case name, whether it closes, and the index after its ">"
// (-1 when the tag does not end). name is "" when s does not start a tag.
func tagName(s string) (name string, closing bool, end int) {
	i := 1
	if i < len(s) && s[i] == '/' {
		closing = true
		i++
	}
	start := i
	for i < len(s) {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || (i > start && ('0' <= c && c <= '9' || c == '-' || c == ':')) {
			i++
			continue
		}
		break
	}
	if i == start {
		return "", false, 0
	}
	name = strings.ToLower(s[start:i])
	// Find the end of the tag, skipping quoted attribute values.
	quote := byte(0)
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return name, closing, i + 1
		}
	}
	return name, closing, -1
}

// indexFold is strings.Index for an ASCII needle, ignoring case.
func indexFold(s, needle string) int {
	n := len(needle)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], needle) {
			return i
		}
	}
	return -1
}

// textToHTML renders plain text as HTML for clients that only take Type 2:
// escaped, line ends as <br>.
func textToHTML(s string) string {
	var sb strings.Builder
	sb.Grow(len(s) + len(s)/8 + 64)
	sb.WriteString("<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"></head><body>")
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, line := range lines {
		if i > 0 {
			sb.WriteString("<br>\r\n")
		}
		sb.WriteString(html.EscapeString(line))
	}
	sb.WriteString("</body></html>")
	return sb.String()
}

// preview is the first n characters of text with all white space runs
// collapsed to one space (MS-ASAIRS Preview: plain text, at most 255).
func preview(text string, n int) string {
	if n <= 0 {
		return ""
	}
	n = min(n, 255)
	var sb strings.Builder
	count, space := 0, false
	for _, r := range text {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' || r == '\f' || r == '\v' || r == '\u00a0' {
			space = true
			continue
		}
		if space && count > 0 {
			if count+1 >= n {
				break
			}
			sb.WriteByte(' ')
			count++
		}
		space = false
		sb.WriteRune(r)
		count++
		if count >= n {
			break
		}
	}
	return sb.String()
}
