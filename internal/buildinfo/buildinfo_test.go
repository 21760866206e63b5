package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	tests := []struct {
		name    string
		stamped Info
		bi      debug.BuildInfo
		want    Info
		line    []string
	}{
		{
			name: "go build in a git checkout",
			bi: debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-03T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}},
			want: Info{Version: "(devel)", Revision: "0123456789abcdef0123", Committed: "2026-12-03T10:00:00Z", Modified: true},
			line: []string{"(devel) (revision 0123456789ab, modified)"},
		},
		{
			name:    "make build stamps version and time",
			stamped: Info{Version: "v0.4.0-3-gabc", Built: "2026-12-03T11:00:00Z"},
			bi:      debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}}},
			want:    Info{Version: "v0.4.0-3-gabc", Built: "2026-12-03T11:00:00Z", Revision: "abc"},
			line:    []string{"v0.4.0-3-gabc (revision abc) built 2026-12-03T11:00:00Z"},
		},
		{
			name: "go install of a tagged module",
			bi:   debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}},
			want: Info{Version: "v1.2.3"},
			line: []string{"v1.2.3 "},
		},
		{
			name: "no version recorded",
			want: Info{Version: "(devel)"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := fromBuildInfo(tc.stamped, &tc.bi)
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			for _, l := range tc.line {
				if !strings.HasPrefix(got.String(), l) {
					t.Errorf("String() = %q, want prefix %q", got.String(), l)
				}
			}
		})
	}
}

func TestReadHasGoAndPlatform(t *testing.T) {
	i := Read()
	if !strings.HasPrefix(i.Go, "go") || !strings.Contains(i.Platform, "/") || i.Version == "" {
		t.Errorf("Read() = %+v", i)
	}
}
