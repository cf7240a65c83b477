package task

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/url"
	"strings"
	"time"
)

// Shared access signatures for the blob-storage emulation: the only
// authorization az's blob client sends is the query string the server
// handed out (listBuildSourceUploadUrl, listLogSasUrl). A signature covers
// the permissions, the expiry, the exact blob path and the registry's
// instance id (so a registry deleted and re-created under its name refuses
// the old one's URLs), with an HMAC-SHA256 key every server shares.

// SASVersion is the storage service version the signatures claim.
const SASVersion = "2018-11-09"

// Permissions of a SAS, as Azure Storage spells them in sp.
const (
	PermRead  = "r"
	PermWrite = "w"
)

// minSASKey is the shortest key that signs: without one (a wiring
// mistake) anyone could compute the signatures.
const minSASKey = 32

func (s *Service) signature(perms, expiry, container, path, instance string) string {
	m := hmac.New(sha256.New, s.sasKey)
	// Each field length-prefixed: no two tuples sign the same bytes
	// (with separators, "reg/source" + "x" would sign as "reg" + "source/x").
	for _, f := range []string{perms, expiry, container, path, instance} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// sign returns the SAS query for a blob.
func (s *Service) sign(perms string, expires time.Time, container, path, instance string) string {
	se := expires.UTC().Truncate(time.Second).Format(time.RFC3339)
	q := url.Values{}
	q.Set("sv", SASVersion)
	q.Set("sr", "b")
	q.Set("sp", perms)
	q.Set("se", se)
	q.Set("sig", s.signature(perms, se, container, path, instance))
	return q.Encode()
}

// verify checks a SAS query for a blob and that it grants need.
func (s *Service) verify(q url.Values, need, container, path, instance string) error {
	for _, k := range []string{"sig", "sp", "se", "sv", "sr"} {
		if len(q[k]) > 1 { // which one a reader takes is not to be guessed
			return ErrSASInvalid.WithMessage("Server failed to authenticate the request. The shared access signature repeats '%s'.", k)
		}
	}
	if len(s.sasKey) < minSASKey {
		return ErrSASInvalid.WithMessage("Server failed to authenticate the request. Signature did not match.")
	}
	sig, perms, se := q.Get("sig"), q.Get("sp"), q.Get("se")
	if sig == "" || perms == "" || se == "" {
		return ErrSASInvalid.WithMessage("Server failed to authenticate the request. The shared access signature is missing a required field (sig, sp or se).")
	}
	want := s.signature(perms, se, container, path, instance)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return ErrSASInvalid.WithMessage("Server failed to authenticate the request. Signature did not match.")
	}
	exp, err := time.Parse(time.RFC3339, se)
	if err != nil {
		return ErrSASInvalid
	}
	if !s.now().Before(exp) {
		return ErrSASExpired.WithMessage("Server failed to authenticate the request. Signed expiry time [%s] must be after signed start time.", se)
	}
	if !strings.Contains(perms, need) {
		return ErrSASPermission
	}
	return nil
}
