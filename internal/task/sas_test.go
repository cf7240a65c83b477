package task

import (
	"bytes"
	"net/url"
	"testing"
	"time"
)

// TestSASAttacks: a SAS is good for its own permissions, blob path,
// container and registry instance until its expiry, and nothing else.
func TestSASAttacks(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := &Service{sasKey: bytes.Repeat([]byte{7}, 32), now: func() time.Time { return now }}
	const c, p, inst = "reg", "source/202601020304/0123456789abcdef0123456789abcdef.tar.gz", "inst-1"
	parse := func(q string) url.Values {
		v, err := url.ParseQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	read := s.sign(PermRead, now.Add(time.Hour), c, p, inst)
	if err := s.verify(parse(read), PermRead, c, p, inst); err != nil {
		t.Fatalf("a good SAS: %v", err)
	}
	with := func(q string, k, v string) url.Values {
		vs := parse(q)
		vs.Set(k, v)
		return vs
	}
	dup := parse(read)
	dup.Add("sp", "rw")
	for name, tc := range map[string]struct {
		q                url.Values
		need, c, p, inst string
	}{
		"write with a read SAS":      {parse(read), PermWrite, c, p, inst},
		"permissions widened":        {with(read, "sp", "rw"), PermWrite, c, p, inst},
		"expiry extended":            {with(read, "se", now.Add(48*time.Hour).Format(time.RFC3339)), PermRead, c, p, inst},
		"another container":          {parse(read), PermRead, "other", p, inst},
		"another blob":               {parse(read), PermRead, c, "logs/ca1/rawtext.log", inst},
		"a trailing slash":           {parse(read), PermRead, c, p + "/", inst},
		"dot-dot":                    {parse(read), PermRead, c, "source/../" + p, inst},
		"container/path split moved": {parse(read), PermRead, c + "/source", p[len("source/"):], inst},
		"a re-created registry":      {parse(read), PermRead, c, p, "inst-2"},
		"a repeated field":           {dup, PermRead, c, p, inst},
		"no signature":               {with(read, "sig", ""), PermRead, c, p, inst},
	} {
		if err := s.verify(tc.q, tc.need, tc.c, tc.p, tc.inst); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	expired := s.sign(PermRead, now, c, p, inst)
	if err := s.verify(parse(expired), PermRead, c, p, inst); err == nil {
		t.Error("an expired SAS: accepted")
	}
	if s.signature("r", "e", "reg/source", "x", "i") == s.signature("r", "e", "reg", "source/x", "i") {
		t.Error("the signature does not tell the container from the path")
	}
	// Without a key (a wiring mistake) anyone could sign: nothing verifies.
	for _, key := range [][]byte{nil, []byte("short")} {
		weak := &Service{sasKey: key, now: s.now}
		if err := weak.verify(parse(weak.sign(PermRead, now.Add(time.Hour), c, p, inst)), PermRead, c, p, inst); err == nil {
			t.Errorf("a SAS signed with a %d-byte key: accepted", len(key))
		}
	}
}
