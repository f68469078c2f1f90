package authconfig

import (
	"reflect"
	"strconv"
	"strings"
)

// unknownKeys lists, as dotted paths, the keys of the parsed document that
// the schema has no field for. The schema is walked by reflection over its
// JSON tags, so the list can never drift from the Go types.
func unknownKeys(doc any, c *Config) []string {
	var out []string
	walkKeys(doc, reflect.TypeOf(*c), "", &out)
	return out
}

func walkKeys(v any, t reflect.Type, path string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		fields := jsonFields(t)
		for k, sub := range m {
			ft, known := fields[k]
			if !known {
				*out = append(*out, join(path, k))
				continue
			}
			walkKeys(sub, ft, join(path, k), out)
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		for k, sub := range m {
			walkKeys(sub, t.Elem(), join(path, quoteKey(k)), out)
		}
	case reflect.Slice:
		s, ok := v.([]any)
		if !ok {
			return
		}
		for i, sub := range s {
			walkKeys(sub, t.Elem(), path+"["+strconv.Itoa(i)+"]", out)
		}
	}
}

func jsonFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		fields[name] = f.Type
	}
	return fields
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// quoteKey keeps user names readable in paths ("users.admin") while making
// odd ones (the anonymous "" user, names with dots) unambiguous.
func quoteKey(k string) string {
	if k == "" || strings.ContainsAny(k, ".[] \"") {
		return strconv.Quote(k)
	}
	return k
}

// unknownPlaceholders lists "acl[i].match.FIELD: ${...}" for each placeholder
// the matcher does not implement.
func unknownPlaceholders(c *Config) []string {
	var out []string
	for i, e := range c.ACL {
		m := e.Match
		fields := map[string]*string{"account": m.Account, "type": m.Type, "name": m.Name, "service": m.Service}
		for k, v := range m.Labels {
			fields["labels."+quoteKey(k)] = &v
		}
		for f, p := range fields {
			if p == nil {
				continue
			}
			for _, ph := range UnknownPlaceholders(*p) {
				out = append(out, "acl["+strconv.Itoa(i)+"].match."+f+": "+ph)
			}
		}
	}
	return out
}
