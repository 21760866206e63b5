package fsx

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// syncfsMaxDirty bounds the data waiting in the page cache (Dirty plus
// Writeback in /proc/meminfo) under which one syncfs(2) replaces many
// fsyncs. syncfs writes back everything dirty on the file system, not just
// our files, so with gigabytes of someone else's writes pending it would
// wait for all of them; fsync waits only for ours.
const syncfsMaxDirty = 32 << 20

// syncfsMinFiles is the number of files from which one syncfs beats
// concurrent fsyncs (each fsync commits the journal, and Go runs only a few
// blocking system calls at once).
const syncfsMinFiles = 4

// syncWhole makes files durable with one syncfs(2) of the file system that
// holds them, when that is cheaper and covers them all: enough files, all
// on one file system, little other dirty data. It reports false, having
// done nothing, otherwise. Like fsync, syncfs reports a write-back error
// that no one has seen, even one from before the file was opened.
func syncWhole(files []*os.File) (bool, error) {
	if len(files) < syncfsMinFiles || pendingWriteback() > syncfsMaxDirty {
		return false, nil
	}
	if !oneDevice(len(files), func(i int, st *unix.Stat_t) error { return unix.Fstat(int(files[i].Fd()), st) }) {
		return false, nil
	}
	return true, syncfs(files[0])
}

// syncDirsWhole is syncWhole for SyncDirs: one syncfs of the file system
// holding dirs, if they are all on it and little else is dirty. Files
// created in a directory live on its file system, so only the directories
// are checked.
func syncDirsWhole(dirs []string) (bool, error) {
	if len(dirs) == 0 || pendingWriteback() > syncfsMaxDirty {
		return false, nil
	}
	if !oneDevice(len(dirs), func(i int, st *unix.Stat_t) error { return unix.Stat(dirs[i], st) }) {
		return false, nil
	}
	f, err := os.Open(dirs[0])
	if err != nil {
		return false, nil
	}
	defer f.Close()
	return true, syncfs(f)
}

// oneDevice reports whether the n things stat describes all live on one
// file system (false if any cannot be stat'ed).
func oneDevice(n int, stat func(i int, st *unix.Stat_t) error) bool {
	var first unix.Stat_t
	for i := range n {
		var st unix.Stat_t
		if err := stat(i, &st); err != nil {
			return false
		}
		if i == 0 {
			first = st
		} else if st.Dev != first.Dev {
			return false
		}
	}
	return true
}

func syncfs(f *os.File) error {
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: f.Name(), Err: err}
	}
	return nil
}

// pendingWriteback is the page cache's Dirty plus Writeback in bytes, or a
// huge number if /proc/meminfo cannot be read (so callers fall back to
// fsync).
func pendingWriteback() uint64 {
	const unknown = ^uint64(0)
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return unknown
	}
	var total uint64
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok || (string(name) != "Dirty" && string(name) != "Writeback") {
			continue
		}
		f := bytes.Fields(rest) // "1234 kB"
		if len(f) != 2 || string(f[1]) != "kB" {
			return unknown
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return unknown
		}
		total += kb << 10
		found++
	}
	if found != 2 {
		return unknown
	}
	return total
}
