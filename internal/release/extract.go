package release

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// maxBinarySize bounds extraction so that a hostile archive cannot fill the disk.
const maxBinarySize = 1 << 30

// extractBinary copies the member named archiveMember(goos) out of the archive
// at archivePath into dst. It never falls back to another member: an archive
// without cli-proxy-api-plus is an error listing what it does hold.
func extractBinary(archivePath, assetName, goos string, dst io.Writer) error {
	want := archiveMember(goos)
	var members []string
	var err error
	switch {
	case strings.HasSuffix(assetName, ".tar.gz") || strings.HasSuffix(assetName, ".tgz"):
		members, err = extractFromTarGz(archivePath, want, dst)
	case strings.HasSuffix(assetName, ".zip"):
		members, err = extractFromZip(archivePath, want, dst)
	default:
		return fmt.Errorf("archive %s has an unknown format (want .tar.gz or .zip)", assetName)
	}
	if err != nil {
		return fmt.Errorf("extracting %s from %s: %w", want, assetName, err)
	}
	if members != nil {
		return fmt.Errorf("archive %s has no %s (it holds: %s); refusing to install anything else",
			assetName, want, strings.Join(members, ", "))
	}
	return nil
}

// extractFromTarGz returns the member names seen when want is missing, or nil
// after copying want into dst.
func extractFromTarGz(archivePath, want string, dst io.Writer) ([]string, error) {
	f, err := os.Open(archivePath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("the archive is not gzip data (damaged download?): %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	members := []string{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return members, nil
		}
		if err != nil {
			return nil, fmt.Errorf("the archive is damaged: %w", err)
		}
		members = append(members, hdr.Name)
		if hdr.Typeflag != tar.TypeReg || path.Base(hdr.Name) != want {
			continue
		}
		if err := copyLimited(dst, tr); err != nil {
			return nil, err
		}
		return nil, nil
	}
}

func extractFromZip(archivePath, want string, dst io.Writer) ([]string, error) {
	zr, err := zip.OpenReader(archivePath)
	if err != nil {
		return nil, fmt.Errorf("the archive is not zip data (damaged download?): %w", err)
	}
	defer zr.Close()
	members := []string{}
	for _, zf := range zr.File {
		members = append(members, zf.Name)
		if !zf.Mode().IsRegular() || path.Base(zf.Name) != want {
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("the archive is damaged: %w", err)
		}
		err = copyLimited(dst, rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		return nil, nil
	}
	return members, nil
}

func copyLimited(dst io.Writer, src io.Reader) error {
	n, err := io.Copy(dst, io.LimitReader(src, maxBinarySize+1))
	if err != nil {
		return fmt.Errorf("the archive is damaged: %w", err)
	}
	if n > maxBinarySize {
		return fmt.Errorf("the binary is larger than %d bytes", maxBinarySize)
	}
	if n == 0 {
		return fmt.Errorf("the binary is empty")
	}
	return nil
}
