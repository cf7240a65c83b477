package task

import "strconv"

// runID names a registry's seq-th run as ACR does: "ca" and the number
// in base 36, so ca1 … ca9, caa … caz, ca10 … (ACR's observed ids: ca8
// is followed by cab; the CLI treats ids as opaque).
func runID(seq int64) string { return "ca" + strconv.FormatInt(seq, 36) }
