package cli

// The fake server's ACR Tasks routes (scheduleRun, listBuildSourceUploadUrl,
// runs, listLogSasUrl) and its blob endpoint (*.blob.azurecr.localhost):
// uploads are kept; a run's log grows by one step each time it is looked
// at (HEAD), the last step setting x-ms-meta-Complete; a run read through
// GET runs/{id} moves one status along its script each time.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cerulean/cerulean/internal/client"
)

type fakeLogStep struct {
	text     string
	complete string // "": not yet
}

type fakeRun struct {
	run      client.Run
	log      []byte
	meta     map[string]string
	steps    []fakeLogStep
	statuses []string // for GET runs/{id}
}

type fakeTasks struct {
	mu      sync.Mutex
	seq     int
	runs    []*fakeRun // oldest first
	uploads map[string][]byte
	bodies  []string // scheduleRun bodies
	queries []string // runs list queries
	// script is the log and statuses of the next runs.
	script []fakeRunScript
}

type fakeRunScript struct {
	steps    []fakeLogStep
	statuses []string
}

func newFakeTasks() *fakeTasks { return &fakeTasks{uploads: map[string][]byte{}} }

func (f *fakeAzure) taskState() *fakeTasks { return f.tasks }

const fakeBlobHost = "cerulean.blob.azurecr.localhost:8443"

var fakeTaskPath = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/resourceGroups/([^/]+)/providers/Microsoft\.ContainerRegistry/registries/([^/]+)/(listBuildSourceUploadUrl|scheduleRun|runs)(?:/([^/]+)(?:/(listLogSasUrl))?)?$`)

// serveTasks answers the ACR Tasks routes (under f.mu).
func (f *fakeAzure) serveTasks(w http.ResponseWriter, r *http.Request, path string) bool {
	m := fakeTaskPath.FindStringSubmatch(path)
	if m == nil {
		return false
	}
	if r.URL.Query().Get("api-version") != client.APIVersionTasks {
		armError(w, 400, "InvalidApiVersion", "unexpected api-version "+r.URL.Query().Get("api-version"))
		return true
	}
	group, ok := f.groups[strings.ToLower(m[1])]
	reg := f.lookupRegistry(group, m[2])
	if !ok || reg == nil {
		fakeRegistryNotFound(w, m[1], m[2])
		return true
	}
	t := f.tasks
	t.mu.Lock()
	defer t.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	switch {
	case strings.EqualFold(m[3], "listBuildSourceUploadUrl") && r.Method == http.MethodPost:
		t.seq++
		rel := fmt.Sprintf("source/20240501000000/%d.tar.gz", t.seq)
		writeJSON(w, 200, map[string]string{"relativePath": rel,
			"uploadUrl": "https://" + fakeBlobHost + "/uploads/" + rel + "?sv=2018-11-09&sr=b&sp=cw&sig=c2ln"})
	case strings.EqualFold(m[3], "scheduleRun") && r.Method == http.MethodPost:
		t.bodies = append(t.bodies, string(body))
		id := fmt.Sprintf("ca%d", len(t.runs)+1)
		created := fakeTime.Add(time.Duration(len(t.runs)) * time.Minute)
		var req struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(body, &req)
		runType := "QuickBuild"
		if req.Type == "EncodedTaskRunRequest" {
			runType = "QuickRun"
		}
		fr := &fakeRun{meta: map[string]string{}, run: client.Run{
			ID: reg.reg.ID + "/runs/" + id, Name: id, Type: "Microsoft.ContainerRegistry/registries/runs",
			Properties: client.RunProperties{RunID: id, Status: "Queued", RunType: runType, CreateTime: &created, LastUpdatedTime: &created,
				Platform: &client.RunPlatform{OS: "linux", Architecture: "amd64"}, ProvisioningState: "Succeeded"},
		}}
		if len(t.script) > 0 {
			fr.steps, fr.statuses = t.script[0].steps, t.script[0].statuses
			t.script = t.script[1:]
		}
		t.runs = append(t.runs, fr)
		writeJSON(w, 200, fr.run)
	case strings.EqualFold(m[3], "runs") && m[4] == "" && r.Method == http.MethodGet:
		t.queries = append(t.queries, r.URL.RawQuery)
		top, _ := strconv.Atoi(r.URL.Query().Get("$top"))
		out := []client.Run{}
		for k := len(t.runs) - 1; k >= 0 && (top == 0 || len(out) < top); k-- {
			out = append(out, t.runs[k].run)
		}
		writeJSON(w, 200, map[string]any{"value": out})
	case strings.EqualFold(m[3], "runs") && m[4] != "":
		fr := t.run(m[4])
		switch {
		case fr == nil:
			armError(w, 404, "RunNotFound", "The run "+m[4]+" was not found.")
		case m[5] != "" && r.Method == http.MethodPost:
			writeJSON(w, 200, map[string]string{"logLink": "https://" + fakeBlobHost + "/logs/" + fr.run.Name + "/rawtext.log?sv=2018-11-09&sr=b&sp=r&sig=c2ln"})
		case m[5] == "" && r.Method == http.MethodGet:
			if len(fr.statuses) > 0 {
				fr.run.Properties.Status, fr.statuses = fr.statuses[0], fr.statuses[1:]
				if runFinished(fr.run.Properties.Status) {
					start, finish := fakeTime.Add(3*time.Second), fakeTime.Add(75*time.Second)
					fr.run.Properties.StartTime, fr.run.Properties.FinishTime = &start, &finish
				}
			}
			writeJSON(w, 200, fr.run)
		default:
			armError(w, 405, "MethodNotAllowed", r.Method)
		}
	default:
		armError(w, 405, "MethodNotAllowed", r.Method)
	}
	return true
}

func (t *fakeTasks) run(id string) *fakeRun {
	for _, fr := range t.runs {
		if fr.run.Name == id {
			return fr
		}
	}
	return nil
}

var fakeLogPath = regexp.MustCompile(`^/logs/([^/]+)/rawtext\.log$`)

// serveBlob is the storage endpoint.
func (t *fakeTasks) serveBlob(w http.ResponseWriter, r *http.Request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := r.URL.Query()
	if r.Header.Get("x-ms-version") != client.BlobStorageVersion || r.Header.Get("Authorization") != "" || q.Get("sig") != "c2ln" {
		http.Error(w, "bad storage request", http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	if rel, ok := strings.CutPrefix(r.URL.Path, "/uploads/"); ok && r.Method == http.MethodPut {
		if r.Header.Get("x-ms-blob-type") != "BlockBlob" {
			http.Error(w, "x-ms-blob-type", http.StatusBadRequest)
			return
		}
		t.uploads[rel] = body
		w.Header().Set("Last-Modified", "Wed, 01 May 2024 12:00:00 GMT")
		w.WriteHeader(http.StatusCreated)
		return
	}
	m := fakeLogPath.FindStringSubmatch(r.URL.Path)
	fr := (*fakeRun)(nil)
	if m != nil {
		fr = t.run(m[1])
	}
	if fr == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if r.Method == http.MethodHead && len(fr.steps) > 0 {
		// Each look at the blob moves the run one step on.
		st := fr.steps[0]
		fr.steps = fr.steps[1:]
		fr.log = append(fr.log, st.text...)
		if st.complete != "" {
			fr.meta["Complete"] = st.complete
		}
		if len(fr.log) == 0 && st.complete == "" {
			w.WriteHeader(http.StatusNotFound) // no log yet
			return
		}
	}
	for k, v := range fr.meta {
		w.Header().Set("x-ms-meta-"+k, v)
	}
	switch r.Method {
	case http.MethodHead:
		w.Header().Set("Content-Length", strconv.Itoa(len(fr.log)))
	case http.MethodGet:
		var start, end int
		if _, err := fmt.Sscanf(r.Header.Get("x-ms-range"), "bytes=%d-%d", &start, &end); err != nil || start >= len(fr.log) {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		end = min(end, len(fr.log)-1)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(fr.log)))
		w.WriteHeader(http.StatusPartialContent)
		_, _ = w.Write(fr.log[start : end+1])
	}
}
