package resourceid

import "testing"

// FuzzScopes: the scope operations RBAC inheritance rests on agree with
// each other. Ancestors runs from the root down to the id itself, each
// one containing the next and formatting to a string that parses back to
// it; Contains holds exactly when the container is one of the other's
// ancestors; and containment both ways is equality. b is also tried as a
// suffix of a, so that most inputs give an id and one of its
// descendants.
func FuzzScopes(f *testing.F) {
	const s = "/subscriptions/" + sub
	for _, seed := range [][2]string{
		{"/", s},
		{s, s + "/resourceGroups/rg"},
		{s + "/resourceGroups/rg", "/providers/Microsoft.ContainerRegistry/registries/r1"},
		{s + "/resourceGroups/RG/providers/Microsoft.ContainerRegistry/registries/r1", "/replications/westus"},
		{s + "/resourcegroups/rg", s + "/resourceGroups/rg2"},
		{s + "/resourceGroups/rg/providers/A.B/c/d/", "/e/f/"},
		{s + "/resourceGroups/providers", "/providers/providers/providers/providers"},
		{s + "/resourceGroups/rg/providers/A.B/c/d", s + "/resourceGroups/rg/providers/A.B/c/de"},
		{s + "/resourceGroups/İ", s + "/resourceGroups/i"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		ida, err := Parse(a)
		if err != nil {
			return
		}
		idb, err := Parse(b)
		if err != nil {
			if idb, err = Parse(a + b); err != nil {
				idb = ida
			}
		}
		for _, id := range []ID{ida, idb} {
			checkAncestors(t, id)
		}
		inAncestors := func(x, y ID) bool { // x is one of y's ancestors
			for _, anc := range y.Ancestors() {
				if anc.Equal(x) {
					return true
				}
			}
			return false
		}
		if got, want := ida.Contains(idb), inAncestors(ida, idb); got != want {
			t.Fatalf("%q.Contains(%q) = %v, but being one of its ancestors is %v", ida, idb, got, want)
		}
		if got, want := idb.Contains(ida), inAncestors(idb, ida); got != want {
			t.Fatalf("%q.Contains(%q) = %v, but being one of its ancestors is %v", idb, ida, got, want)
		}
		if ida.Contains(idb) && idb.Contains(ida) != ida.Equal(idb) {
			t.Fatalf("%q and %q contain each other but are not equal", ida, idb)
		}
		if ida.Equal(idb) != idb.Equal(ida) {
			t.Fatalf("Equal of %q and %q is not symmetric", ida, idb)
		}
	})
}

// checkAncestors checks one id's ancestor chain.
func checkAncestors(t *testing.T, id ID) {
	t.Helper()
	anc := id.Ancestors()
	want := 1
	switch id.Level() {
	case Subscription:
		want = 2
	case ResourceGroup:
		want = 3
	case Resource:
		want = 3 + len(id.Types)
	}
	if len(anc) != want || anc[0].Level() != Root || !anc[len(anc)-1].Equal(id) {
		t.Fatalf("Ancestors(%q) = %q", id, anc)
	}
	for i, x := range anc {
		if !x.Contains(id) {
			t.Fatalf("ancestor %q of %q does not contain it", x, id)
		}
		if i > 0 && (!anc[i-1].Contains(x) || x.Contains(anc[i-1])) {
			t.Fatalf("ancestors %q and %q of %q are out of order", anc[i-1], x, id)
		}
		again, err := Parse(x.String())
		if err != nil || !again.Equal(x) || again.String() != x.String() {
			t.Fatalf("ancestor %q of %q does not round-trip: %q, %v", x, id, again, err)
		}
	}
}
