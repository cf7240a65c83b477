package blob

import (
	"strings"
	"testing"
)

// TestValidUploadID: upload ids are [A-Za-z0-9_-]{1,128}; nothing else may
// become part of a path or key.
func TestValidUploadID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"a", true},
		{"0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{"A-z_09", true},
		{strings.Repeat("x", 128), true},
		{strings.Repeat("x", 129), false},
		{"", false},
		{".", false},
		{"..", false},
		{"a.b", false},
		{"a/b", false},
		{`a\b`, false},
		{"a b", false},
		{"a\x00", false},
		{"é", false},
	}
	for _, tt := range tests {
		if got := ValidUploadID(tt.id); got != tt.want {
			t.Errorf("ValidUploadID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
