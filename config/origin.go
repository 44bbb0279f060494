package config

import "strings"

// origin maps key paths, such as zones[4].min, to where their values were set:
// "file:line:column" for the file, the variable name for an environment override,
// or a flag name.
type origin struct {
	at map[string]string
}

// SetSource records that the value at path was set by source, such as a command-line
// flag, after the file was read. Validate then names source in an error about it. It
// does nothing for a configuration not read from a file, which has no sources to correct.
func (c *Config) SetSource(path, source string) {
	if c.origin != nil {
		c.origin.at[path] = source
	}
}

// sourceOf returns where the value at path, or failing that its nearest enclosing list
// or mapping, was set, or "" when that is unknown.
func (o *origin) sourceOf(path string) string {
	if o == nil {
		return ""
	}
	for {
		if src, ok := o.at[path]; ok {
			return src
		}
		cut := strings.LastIndexAny(path, ".[")
		if cut <= 0 {
			return ""
		}
		path = path[:cut]
	}
}
