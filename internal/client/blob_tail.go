package client

// Tailing a run's log blob as az does (acr/_stream_utils._stream_logs):
// HEAD for the size and metadata, ranged reads of 4 KiB, printing up to the
// last CRLF of what was read, a back-off while nothing new arrives, and the
// end when the blob's metadata holds "Complete" and every byte is read.

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// Tail configures TailLog.
type Tail struct {
	// Out receives the log.
	Out io.Writer
	// Timeout is how long to wait, in total, without new log bytes before
	// giving up (az's --timeout, 3600 s by default).
	Timeout time.Duration
	// Sleep waits (time.Sleep-like, cancellable); nil sleeps for real.
	Sleep func(context.Context, time.Duration) error
	// Jitter returns az's random extra delay, uniform in [1, 2) seconds;
	// nil uses math/rand.
	Jitter func() float64
	// Debugf, when set, receives az's debug lines.
	Debugf func(format string, args ...any)
}

// TailResult is how a tail ended.
type TailResult struct {
	// Status is the metadata's Complete value ("inprogress" if it never
	// came).
	Status string
	// GaveUp is set when no new bytes came for longer than Timeout;
	// Idle is how long that was.
	GaveUp bool
	Idle   time.Duration
}

const (
	tailMaxSleep       = 15 * time.Second
	tailFailsToBackOff = 3
)

// TailLog follows the blob until it is complete.
func (b *Blob) TailLog(ctx context.Context, t Tail) (TailResult, error) {
	sleep, jitter, debugf := t.Sleep, t.Jitter, t.Debugf
	if sleep == nil {
		sleep = func(ctx context.Context, d time.Duration) error {
			tm := time.NewTimer(d)
			defer tm.Stop()
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tm.C:
				return nil
			}
		}
	}
	if jitter == nil {
		jitter = func() float64 { return 1 + rand.Float64() }
	}
	if debugf == nil {
		debugf = func(string, ...any) {}
	}
	var (
		stream      []byte
		metadata    map[string]string
		start       int64
		available   int64
		sleepTime   = time.Second
		numFails    int
		consecutive time.Duration
		logExists   bool
	)
	print := func(p []byte) error {
		_, err := io.WriteString(t.Out, strings.ToValidUTF8(string(p), "")+"\n")
		return err
	}
	flush := func() error {
		if len(stream) == 0 {
			return nil
		}
		err := print(stream)
		stream = nil
		return err
	}

	// The first look, whose failures are only retried (az swallows them).
	if ok, err := b.Exists(ctx); err == nil && ok {
		logExists = true
		if p, err := b.Properties(ctx); err == nil {
			metadata, available = p.Metadata, p.Size
		}
	} else if ctx.Err() != nil {
		return TailResult{}, ctx.Err()
	} else if err := sleep(ctx, time.Second); err != nil {
		return TailResult{}, err
	}

	for !blobComplete(metadata) || start < available {
		for start < available {
			sleepTime, numFails, consecutive = time.Second, 0, 0
			data, err := b.ReadRange(ctx, start, start+logChunkSize-1)
			if err != nil {
				if errdefs.IsKind(err, errdefs.NotFound) {
					// az retries a 404 at once; the HEAD below decides.
					break
				}
				return TailResult{}, err
			}
			if len(data) == 0 {
				// Nothing came although the size promised more: ask again.
				break
			}
			oldLen := len(stream)
			stream = append(stream, data...)
			start += int64(len(data))
			// Only what is new (and the byte before it) can hold the
			// last CRLF; everything up to it is printed, the rest kept.
			scanFrom := max(oldLen-1, 0)
			if i := bytes.LastIndex(stream[scanFrom:], []byte("\r\n")); i >= 0 {
				cut := scanFrom + i + 1 // the '\n'
				if err := print(stream[:cut]); err != nil {
					return TailResult{}, err
				}
				stream = append([]byte(nil), stream[cut+1:]...)
			}
		}

		if logExists {
			p, err := b.Properties(ctx)
			switch {
			case err == nil:
				metadata, available = p.Metadata, p.Size
			case !errdefs.IsKind(err, errdefs.NotFound):
				return TailResult{}, err
			}
		} else {
			ok, err := b.Exists(ctx)
			if err != nil {
				return TailResult{}, err
			}
			logExists = ok
		}

		if consecutive > t.Timeout {
			if err := flush(); err != nil {
				return TailResult{}, err
			}
			return TailResult{Status: runStatus(metadata), GaveUp: true, Idle: consecutive}, nil
		}

		if !blobComplete(metadata) && start >= available {
			numFails++
			debugf("Failed to find new content %d times in a row", numFails)
			if numFails >= tailFailsToBackOff {
				numFails = 0
				sleepTime = min(sleepTime*2, tailMaxSleep)
				debugf("Resetting failure count to %d", numFails)
			}
			total := sleepTime + time.Duration(jitter()*float64(time.Second))
			consecutive += total
			debugf("Base sleep time: %d, random delay: %d, total: %d, consecutive: %d",
				int(sleepTime.Seconds()), int(total.Seconds()-sleepTime.Seconds()), int(total.Seconds()), int(consecutive.Seconds()))
			if err := sleep(ctx, total); err != nil {
				return TailResult{}, err
			}
		}
	}
	if err := flush(); err != nil {
		return TailResult{}, err
	}
	status := runStatus(metadata)
	debugf("status was: '%s'", strings.ToLower(status))
	return TailResult{Status: status}, nil
}

// blobComplete is not _blob_is_not_complete: any metadata key equal to
// "complete", in any case.
func blobComplete(metadata map[string]string) bool {
	for k := range metadata {
		if strings.EqualFold(k, "complete") {
			return true
		}
	}
	return false
}

// runStatus is _get_run_status.
func runStatus(metadata map[string]string) string {
	for k, v := range metadata {
		if strings.EqualFold(k, "complete") {
			return v
		}
	}
	return "inprogress"
}
