package main

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// file is one entry of an image layer. Exactly one of Src (a file on disk),
// Data (inline content) or Dir is used.
type file struct {
	Path     string // absolute path inside the image
	Src      string
	Data     []byte
	Dir      bool
	Mode     int64
	UID, GID int
}

// epoch is the timestamp of every entry: layers are reproducible, so an
// unchanged binary yields an unchanged digest (and the same content tag).
var epoch = time.Unix(0, 0).UTC()

// layerTar writes a tar stream of files, parent directories first, sorted.
func layerTar(w io.Writer, files []file) error {
	entries := withParents(files)
	tw := tar.NewWriter(w)
	for _, f := range entries {
		hdr := &tar.Header{
			Name:    f.Path[1:],
			Mode:    f.Mode,
			Uid:     f.UID,
			Gid:     f.GID,
			ModTime: epoch,
			Format:  tar.FormatPAX,
		}
		if f.Dir {
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			continue
		}
		content := f.Data
		if f.Src != "" {
			b, err := os.ReadFile(f.Src)
			if err != nil {
				return err
			}
			content = b
		}
		hdr.Typeflag = tar.TypeReg
		hdr.Size = int64(len(content))
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(content); err != nil {
			return err
		}
	}
	return tw.Close()
}

// withParents adds a 0755 root-owned entry for every missing parent directory.
func withParents(files []file) []file {
	seen := map[string]bool{}
	var out []file
	for _, f := range files {
		seen[f.Path] = true
	}
	for _, f := range files {
		for d := path.Dir(f.Path); d != "/" && !seen[d]; d = path.Dir(d) {
			seen[d] = true
			out = append(out, file{Path: d, Dir: true, Mode: 0o755})
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// newLayer builds a gzip-compressed OCI layer from files.
func newLayer(files []file) (v1.Layer, error) {
	var buf bytes.Buffer
	if err := layerTar(&buf, files); err != nil {
		return nil, err
	}
	raw := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(raw)), nil
	}, tarball.WithMediaType(types.OCILayer))
}
