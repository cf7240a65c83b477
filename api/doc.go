// Package api holds Cerulean's wire contract: the JSON shapes of each
// protocol it speaks, as Azure spells them. The sub-packages hold types
// only — no logic and no I/O — and are shared by the server adapters and
// the client.
package api
