package dpkg

import (
	"bytes"
	"fmt"
	"strings"
)

// Field is one field of a control paragraph. Value is kept as dpkg keeps it:
// the text after "Name:" with leading blanks and trailing whitespace removed,
// continuation lines included verbatim (with their leading space and the
// " ." markers), joined by "\n".
type Field struct {
	Name  string
	Value string
}

// Paragraph is an ordered list of fields, as in a .deb's control file or a
// stanza of dpkg's status file.
type Paragraph struct {
	Fields []Field
}

// ParseParagraph parses exactly one paragraph (a .deb's control file). Blank
// lines before and after it are ignored; a second paragraph is an error, as
// is a duplicate field, a line that is neither a field nor a continuation,
// or a field with no colon. The parse follows dpkg's (lib/dpkg/parse.c), so
// what dpkg accepts this accepts, and the values come back as dpkg stores
// them.
func ParseParagraph(data []byte) (Paragraph, error) {
	var p Paragraph
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	i := 0
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	for ; i < len(lines); i++ {
		line := lines[i]
		if strings.TrimSpace(line) == "" {
			for j := i; j < len(lines); j++ {
				if strings.TrimSpace(lines[j]) != "" {
					return p, fmt.Errorf("control: line %d: more than one paragraph", j+1)
				}
			}
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(p.Fields) == 0 {
				return p, fmt.Errorf("control: line %d: continuation line before any field", i+1)
			}
			f := &p.Fields[len(p.Fields)-1]
			f.Value += "\n" + strings.TrimRight(line, " \t")
			continue
		}
		if line[0] == '#' {
			return p, fmt.Errorf("control: line %d: comment lines are not allowed", i+1)
		}
		colon := strings.IndexByte(line, ':')
		if colon <= 0 {
			return p, fmt.Errorf("control: line %d: field name %q must be followed by a colon", i+1, line)
		}
		name := line[:colon]
		if strings.ContainsAny(name, " \t") {
			return p, fmt.Errorf("control: line %d: blank in field name %q", i+1, name)
		}
		if _, dup := p.lookup(name); dup {
			return p, fmt.Errorf("control: line %d: duplicate field %q", i+1, name)
		}
		p.Fields = append(p.Fields, Field{Name: name, Value: strings.Trim(line[colon+1:], " \t")})
	}
	if len(p.Fields) == 0 {
		return p, fmt.Errorf("control: empty paragraph")
	}
	for k := range p.Fields {
		// A value whose first line is empty keeps its continuation lines only.
		p.Fields[k].Value = strings.TrimRight(p.Fields[k].Value, " \t\n")
	}
	return p, nil
}

func (p Paragraph) lookup(name string) (int, bool) {
	for i, f := range p.Fields {
		if strings.EqualFold(f.Name, name) {
			return i, true
		}
	}
	return -1, false
}

// Get returns the value of the named field (matched case-insensitively, as
// dpkg does), or "" when absent.
func (p Paragraph) Get(name string) string {
	if i, ok := p.lookup(name); ok {
		return p.Fields[i].Value
	}
	return ""
}

// Bytes renders the paragraph as "Name: value\n" lines, with no blank line
// after it. An empty first line is written as "Name:\n".
func (p Paragraph) Bytes() []byte {
	var b bytes.Buffer
	for _, f := range p.Fields {
		b.WriteString(f.Name)
		b.WriteByte(':')
		if f.Value != "" && f.Value[0] != '\n' {
			b.WriteByte(' ')
		}
		b.WriteString(f.Value)
		b.WriteByte('\n')
	}
	return b.Bytes()
}
