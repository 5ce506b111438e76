package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/flowgate/flowgate/internal/runtime"
)

// tinyELF returns a complete 129-byte static ELF64 executable for machine.
// For x86-64 its code is exit(0): mov eax,60; xor edi,edi; syscall.
func tinyELF(machine elf.Machine) []byte {
	code := []byte{0xb8, 0x3c, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05}
	const base = 0x400000
	const hdrs = 64 + 56
	total := uint64(hdrs + len(code))
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write([]byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	binary.Write(&b, le, uint16(elf.ET_EXEC))
	binary.Write(&b, le, uint16(machine))
	binary.Write(&b, le, uint32(1))         // version
	binary.Write(&b, le, uint64(base+hdrs)) // entry
	binary.Write(&b, le, uint64(64))        // phoff
	binary.Write(&b, le, uint64(0))         // shoff
	binary.Write(&b, le, uint32(0))         // flags
	binary.Write(&b, le, uint16(64))        // ehsize
	binary.Write(&b, le, uint16(56))        // phentsize
	binary.Write(&b, le, uint16(1))         // phnum
	binary.Write(&b, le, uint16(64))        // shentsize
	binary.Write(&b, le, uint16(0))         // shnum
	binary.Write(&b, le, uint16(0))         // shstrndx
	binary.Write(&b, le, uint32(elf.PT_LOAD))
	binary.Write(&b, le, uint32(elf.PF_R|elf.PF_X))
	binary.Write(&b, le, uint64(0))      // offset
	binary.Write(&b, le, uint64(base))   // vaddr
	binary.Write(&b, le, uint64(base))   // paddr
	binary.Write(&b, le, total)          // filesz
	binary.Write(&b, le, total)          // memsz
	binary.Write(&b, le, uint64(0x1000)) // align
	b.Write(code)
	return b.Bytes()
}

type member struct {
	name string
	data []byte
	mode int64
}

func tarGz(t *testing.T, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, m := range members {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: m.mode, Size: int64(len(m.data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipArchive(t *testing.T, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, err := zw.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(m.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// releaseArchive is the normal linux/amd64 archive: the binary plus LICENSE
// and README, flat, as goreleaser builds it.
func releaseArchive(t *testing.T, bin []byte) []byte {
	return tarGz(t,
		member{"LICENSE", bytes.Repeat([]byte("MIT License\n"), 100), 0o644},
		member{"cli-proxy-api-plus", bin, 0o755},
		member{"README.md", []byte("# CLIProxyAPIPlus\n"), 0o644},
	)
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// fakeGitHub stands in for the GitHub release API and the download host.
type fakeGitHub struct {
	srv *httptest.Server

	mu       sync.Mutex
	latest   string
	releases map[string][]fakeAsset // tag -> assets
	auth     []string               // Authorization headers seen on the API
	hits     map[string]int
}

type fakeAsset struct {
	name string
	data []byte
	// truncate > 0 sends only that many bytes while announcing all of them.
	truncate int
	// size overrides the size announced in the release JSON (0 = len(data)).
	size int64
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{releases: map[string][]fakeAsset{}, hits: map[string]int{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// addRelease registers tag with the given archives and a checksums.txt built
// from them; sums overrides entries (name -> hex), "" removes an entry.
func (f *fakeGitHub) addRelease(tag string, assets []fakeAsset, sums map[string]string, withChecksums bool) {
	var lines []string
	for _, a := range assets {
		s := sum(a.data)
		if o, ok := sums[a.name]; ok {
			s = o
		}
		if s != "" {
			lines = append(lines, s+"  "+a.name)
		}
	}
	if withChecksums {
		assets = append(assets, fakeAsset{name: "checksums.txt", data: []byte(strings.Join(lines, "\n") + "\n")})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.releases[tag] = assets
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits[r.URL.Path]++
	const repoPrefix = "/repos/router-for-me/CLIProxyAPIPlus/releases/"
	switch {
	case strings.HasPrefix(r.URL.Path, repoPrefix):
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		tag := strings.TrimPrefix(r.URL.Path, repoPrefix+"tags/")
		if r.URL.Path == repoPrefix+"latest" {
			tag = f.latest
		}
		assets, ok := f.releases[tag]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"Not Found"}`))
			return
		}
		rel := Release{TagName: tag, HTMLURL: "https://github.com/router-for-me/CLIProxyAPIPlus/releases/tag/" + tag}
		for _, a := range assets {
			size := a.size
			if size == 0 {
				size = int64(len(a.data))
			}
			rel.Assets = append(rel.Assets, Asset{Name: a.name, Size: size,
				BrowserDownloadURL: f.srv.URL + "/download/" + tag + "/" + a.name})
		}
		json.NewEncoder(w).Encode(rel)
	case strings.HasPrefix(r.URL.Path, "/download/"):
		if r.Header.Get("Authorization") != "" {
			http.Error(w, "token leaked to the download host", http.StatusBadRequest)
			return
		}
		rest := strings.TrimPrefix(r.URL.Path, "/download/")
		tag, name, _ := strings.Cut(rest, "/")
		for _, a := range f.releases[tag] {
			if a.name != name {
				continue
			}
			w.Header().Set("Content-Length", itoa(len(a.data)))
			if a.truncate > 0 {
				w.Write(a.data[:a.truncate])
				return
			}
			w.Write(a.data)
			return
		}
		http.NotFound(w, r)
	default:
		http.NotFound(w, r)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// recorder collects emitted events.
type recorder struct {
	mu     sync.Mutex
	events []runtime.Event
}

func (r *recorder) emitter() runtime.Emitter {
	return func(ev runtime.Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, ev)
	}
}

func (r *recorder) all() []runtime.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]runtime.Event(nil), r.events...)
}
