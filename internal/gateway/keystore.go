package gateway

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/flowgate/flowgate/internal/clientkeys"
)

// The named keys `flowgate keys create` stores (Options.KeysFile) are
// read when the gateway starts, on every Reload (SIGHUP) and within a
// second of the file changing, so a created key works and a revoked one
// stops working without a restart. An unreadable file on a reload keeps
// the keys that were running and is logged.

// keyStore is the loaded keys file.
type keyStore struct {
	keys []clientKey
	// stamp is the file's modification time and size when read.
	stamp string
}

func (s *Server) storeKeys() []clientKey {
	if ks := s.keyStore.Load(); ks != nil {
		return ks.keys
	}
	return nil
}

func fileStamp(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "missing"
	}
	return fmt.Sprintf("%d/%d", fi.ModTime().UnixNano(), fi.Size())
}

// loadKeyStore reads Options.KeysFile into the running key set.
func (s *Server) loadKeyStore() error {
	path := s.opts.KeysFile
	if path == "" {
		return nil
	}
	stamp := fileStamp(path)
	list, err := clientkeys.Load(path)
	if err != nil {
		return err
	}
	ks := &keyStore{stamp: stamp, keys: make([]clientKey, 0, len(list))}
	for _, k := range list {
		ck := clientKey{name: k.Name, limits: k.Limits, hashed: true}
		hex.Decode(ck.hash[:], []byte(strings.TrimPrefix(k.Hash, "sha256:")))
		ks.keys = append(ks.keys, ck)
	}
	s.keyStore.Store(ks)
	return nil
}

// watchKeyStore reloads the keys file when it changes, until stop closes.
func (s *Server) watchKeyStore(stop <-chan struct{}) {
	if s.opts.KeysFile == "" {
		return
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		cur := s.keyStore.Load()
		if cur != nil && cur.stamp == fileStamp(s.opts.KeysFile) {
			continue
		}
		if err := s.loadKeyStore(); err != nil {
			s.log.Error("client keys not reloaded; keeping the running ones", "file", s.opts.KeysFile, "error", err.Error())
			// Do not retry the same broken file every second.
			if cur != nil {
				s.keyStore.Store(&keyStore{keys: cur.keys, stamp: fileStamp(s.opts.KeysFile)})
			}
			continue
		}
		s.log.Info("client keys reloaded", "file", s.opts.KeysFile, "keys", len(s.storeKeys()))
	}
}
