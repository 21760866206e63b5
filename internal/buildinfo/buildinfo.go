// Package buildinfo says which build of kafkatls is running, so that a bug
// report can name it: the module version, the VCS revision and time the
// binary was built from, and the Go toolchain. Most of it comes from the
// build information the Go linker embeds; `make build` adds a version and a
// build time with -ldflags -X (a plain `go build` has neither).
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set by `make build` with -ldflags -X (version, revision, buildTime): the
// revision too, because a build with -buildvcs=false (GOFLAGS) records none.
var (
	version   string
	revision  string
	buildTime string
)

// Info describes one build. Fields that the build did not record are empty.
type Info struct {
	Version   string `json:"version"`             // "v1.2.3", a git describe string, or "(devel)"
	Revision  string `json:"revision,omitempty"`  // VCS commit
	Modified  bool   `json:"modified,omitempty"`  // built from a work tree with uncommitted changes
	Committed string `json:"committed,omitempty"` // time of the commit (RFC 3339)
	Built     string `json:"built,omitempty"`     // build time (RFC 3339), stamped by make build
	Go        string `json:"go"`                  // Go toolchain
	Platform  string `json:"platform"`            // GOOS/GOARCH
}

// Read returns the running binary's build information.
func Read() Info {
	info := Info{Version: version, Revision: revision, Built: buildTime, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if info.Version == "" {
			info.Version = "(unknown)"
		}
		return info
	}
	return fromBuildInfo(info, bi)
}

func fromBuildInfo(info Info, bi *debug.BuildInfo) Info {
	if info.Version == "" {
		info.Version = bi.Main.Version
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if info.Revision == "" {
				info.Revision = s.Value
			}
		case "vcs.time":
			info.Committed = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is the one-line form `kafkatls --version` prints.
func (i Info) String() string {
	s := i.Version
	if i.Revision != "" {
		rev := i.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += " (revision " + rev
		if i.Modified {
			s += ", modified"
		}
		s += ")"
	}
	if i.Built != "" {
		s += " built " + i.Built
	}
	return s + " " + i.Go + " " + i.Platform
}
