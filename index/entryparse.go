package index

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// A parser for entry lines as WriteJSON writes them: a flat object of
// strings, integers and booleans, and the "layer" object. It is several
// times faster than encoding/json, which validates each line, then decodes
// it by reflection with a nested Unmarshal per digest (loading the full
// bookworm index spent most of its time there). The fields come from
// Entry's and Layer's json tags, so a field added to them is parsed too.
// Anything else — an escape in a string, a null, a field of another kind —
// makes parseEntry report false, and the caller decodes that line with
// encoding/json: the result is the same, only slower.

type fieldKind int

const (
	kindString fieldKind = iota
	kindInt
	kindBool
	kindHash
	kindLayer
)

type fieldSetter struct {
	index int
	kind  fieldKind
}

var (
	hashType    = reflect.TypeOf(v1.Hash{})
	layerType   = reflect.TypeOf(Layer{})
	entryFields = fieldsOf(reflect.TypeOf(Entry{}))
	layerFields = fieldsOf(layerType)
)

// fieldsOf maps json names to fields; fields of kinds the parser does not
// know are left out (a line naming one falls back to encoding/json).
func fieldsOf(t reflect.Type) map[string]fieldSetter {
	m := map[string]fieldSetter{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		switch {
		case f.Type == hashType:
			m[name] = fieldSetter{i, kindHash}
		case f.Type == layerType:
			m[name] = fieldSetter{i, kindLayer}
		case f.Type.Kind() == reflect.String:
			m[name] = fieldSetter{i, kindString}
		case f.Type.Kind() == reflect.Int || f.Type.Kind() == reflect.Int64:
			m[name] = fieldSetter{i, kindInt}
		case f.Type.Kind() == reflect.Bool:
			m[name] = fieldSetter{i, kindBool}
		}
	}
	return m
}

// parseEntry parses one entry line into e. ok is false when the line needs
// encoding/json; err is set only for a malformed line.
func parseEntry(b []byte, e *Entry) (ok bool, err error) {
	p := &lineParser{b: b}
	if !p.object(reflect.ValueOf(e).Elem(), entryFields) {
		return false, nil
	}
	p.space()
	if p.i != len(p.b) {
		return false, nil
	}
	return true, p.err
}

type lineParser struct {
	b   []byte
	i   int
	err error
}

func (p *lineParser) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\r' || p.b[p.i] == '\n') {
		p.i++
	}
}

func (p *lineParser) byte(c byte) bool {
	p.space()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string without escapes; false otherwise.
func (p *lineParser) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			s := string(p.b[start:p.i])
			p.i++
			return s, true
		case c == '\\' || c < 0x20:
			return "", false
		}
		p.i++
	}
	return "", false
}

func (p *lineParser) object(v reflect.Value, fields map[string]fieldSetter) bool {
	if !p.byte('{') {
		return false
	}
	if p.byte('}') {
		return true
	}
	for {
		key, ok := p.str()
		if !ok || !p.byte(':') {
			return false
		}
		f, known := fields[key]
		if !known {
			return false
		}
		if !p.value(v.Field(f.index), f.kind) {
			return false
		}
		if p.byte('}') {
			return true
		}
		if !p.byte(',') {
			return false
		}
	}
}

func (p *lineParser) value(fv reflect.Value, kind fieldKind) bool {
	p.space()
	switch kind {
	case kindString:
		s, ok := p.str()
		if ok {
			fv.SetString(s)
		}
		return ok
	case kindHash:
		s, ok := p.str()
		if !ok {
			return false
		}
		if s == "" {
			return true
		}
		h, err := v1.NewHash(s)
		if err != nil {
			p.err = fmt.Errorf("digest %q: %w", s, err)
			return true
		}
		fv.Set(reflect.ValueOf(h))
		return true
	case kindInt:
		start := p.i
		if p.i < len(p.b) && p.b[p.i] == '-' {
			p.i++
		}
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
		}
		n, err := strconv.ParseInt(string(p.b[start:p.i]), 10, 64)
		if err != nil {
			return false
		}
		fv.SetInt(n)
		return true
	case kindBool:
		switch {
		case bytes.HasPrefix(p.b[p.i:], []byte("true")):
			p.i += 4
			fv.SetBool(true)
		case bytes.HasPrefix(p.b[p.i:], []byte("false")):
			p.i += 5
			fv.SetBool(false)
		default:
			return false
		}
		return true
	case kindLayer:
		return p.object(fv, layerFields)
	}
	return false
}
