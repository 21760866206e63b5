//go:build !linux

package fsx

import "os"

// syncWhole reports false: outside Linux every file is fsynced.
func syncWhole(files []*os.File) (bool, error) { return false, nil }

// syncDirsWhole reports false: outside Linux every file is fsynced.
func syncDirsWhole(dirs []string) (bool, error) { return false, nil }
