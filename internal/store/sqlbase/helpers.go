package sqlbase

import (
	"context"
	"database/sql"
	"encoding/json"
	"maps"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// execOne runs an UPDATE or DELETE that must hit a row, returning notFound
// when it hits none.
func execOne(ctx context.Context, tx querier, notFound error, what, query string, args ...any) error {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return errdefs.Internalf(err, "store: %s", what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return errdefs.Internalf(err, "store: %s", what)
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// key is the lower-cased form stored in *_key columns.
func key(s string) string { return strings.ToLower(s) }

// escapeLike escapes LIKE's wildcards (and the escape character) in s, for
// use with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// timeLayout is RFC 3339 with a fixed nine-digit fraction, so that text
// order is time order (time.RFC3339Nano trims trailing zeros, which breaks
// ORDER BY). time.RFC3339Nano parses it.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// FormatTime is the stored form of t (migrations record their time in it).
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func formatTime(t time.Time) string { return FormatTime(t) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// encodeList encodes a string list as a JSON array; nil becomes "[]".
func encodeList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // cannot fail for []string
	return string(b)
}

// decodeList decodes a JSON array, returning a non-nil slice.
func decodeList(s string) ([]string, error) {
	v := []string{}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, err
	}
	if v == nil { // "null"
		v = []string{}
	}
	return v, nil
}

func lowerList(v []string) []string {
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = key(s)
	}
	return out
}

// encodeTags encodes a tag map as a JSON object; a nil map becomes NULL so
// that nil and empty survive the round trip.
func encodeTags(m map[string]string) sql.NullString {
	if m == nil {
		return sql.NullString{}
	}
	b, _ := json.Marshal(m) // cannot fail for map[string]string
	return sql.NullString{String: string(b), Valid: true}
}

var tagsMemo = newMemo(maps.Clone[map[string]string])

func decodeTags(ns sql.NullString) (map[string]string, error) {
	if !ns.Valid {
		return nil, nil
	}
	if ns.String == "{}" {
		return map[string]string{}, nil
	}
	return tagsMemo.decode(ns.String, decodeTagsJSON)
}

func decodeTagsJSON(s string) (map[string]string, error) {
	m := map[string]string{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	return m, nil
}
