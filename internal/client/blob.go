package client

// The slice of Azure Blob Storage az acr build, az acr run and az acr task
// logs use, with SAS URLs the server hands out: upload a build context
// (BlockBlobService.create_blob_from_path) and tail a run's log
// (AppendBlobService: exists, get_blob_properties, ranged
// get_blob_to_stream). Requests are what the Python storage SDK az 2.45
// uses (azure-multiapi-storage, 2018-11-09) sends: x-ms-version, x-ms-date,
// x-ms-client-request-id, the SAS query as given, no Authorization header.

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cerulean/cerulean/internal/errdefs"
)

// BlobStorageVersion is the x-ms-version the storage SDK of az 2.45 sends.
const BlobStorageVersion = "2018-11-09"

// Upload sizes of the storage SDK (BlockBlobService): below
// MaxSinglePutSize one Put Blob, at or above it blocks of BlockSize, two
// in flight.
const (
	MaxSinglePutSize = 64 << 20
	BlockSize        = 4 << 20
	blockConnections = 2
)

// logChunkSize is _stream_utils.DEFAULT_CHUNK_SIZE: each ranged read of
// a log asks for 4 KiB.
const logChunkSize = 4 << 10

// blobURLPattern is acr/_azure_utils.get_blob_info's.
var blobURLPattern = regexp.MustCompile(`http(s)?://(?P<account>.*?)\.blob\.(?P<suffix>.*?)/(?P<container>.*?)/(?P<blob>.*?)\?(?P<sas>.*)`)

// BlobURL is a blob SAS URL split as az splits it.
type BlobURL struct {
	Account   string
	Suffix    string // the endpoint suffix, with any port
	Container string
	Blob      string
	SAS       string
}

// ParseBlobURL is get_blob_info.
func ParseBlobURL(s string) (BlobURL, error) {
	m := blobURLPattern.FindStringSubmatch(s)
	if m == nil {
		return BlobURL{}, fmt.Errorf("client: %q is not a blob SAS URL", redactURL(s))
	}
	b := BlobURL{Account: m[2], Suffix: m[3], Container: m[4], Blob: m[5], SAS: m[6]}
	if b.Account == "" || b.Container == "" || b.Blob == "" || b.SAS == "" {
		return BlobURL{}, errdefs.Newf(errdefs.InvalidArgument, "", "Failed to parse the SAS URL: '%s'.", redactURL(s))
	}
	return b, nil
}

// Host is the blob endpoint's host[:port].
func (b BlobURL) Host() string { return b.Account + ".blob." + b.Suffix }

// url is the URL the storage SDK rebuilds: always https, the SAS query
// first, then the operation's own parameters.
func (b BlobURL) url(extra string) string {
	u := "https://" + b.Host() + "/" + b.Container + "/" + b.Blob + "?" + b.SAS
	if extra != "" {
		u += "&" + extra
	}
	return u
}

// BlobConfig configures a Blob client.
type BlobConfig struct {
	// Endpoint is the Cerulean server; connections to the blob host go to
	// its address (as to registry login servers), unless HTTPClient is set.
	Endpoint string
	CAPool   *x509.CertPool
	// HTTPClient replaces the client built from Endpoint and CAPool.
	HTTPClient *http.Client
	UserAgent  string
	Logger     *slog.Logger
}

// Blob reads and writes one blob through its SAS URL.
type Blob struct {
	c   *Client
	url BlobURL
	now func() time.Time
}

// NewBlob returns a client for the blob at sasURL.
func NewBlob(cfg BlobConfig, sasURL string) (*Blob, error) {
	b, err := ParseBlobURL(sasURL)
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tr, err := RegistryTransport(cfg.Endpoint, cfg.CAPool, b.Host())
		if err != nil {
			return nil, err
		}
		// socket_timeout=300 for uploads; reads are small.
		hc = &http.Client{Transport: tr, Timeout: 300 * time.Second}
	}
	c, err := New(Config{Endpoint: "https://" + b.Host(), HTTPClient: hc, UserAgent: cfg.UserAgent, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	return &Blob{c: c, url: b, now: time.Now}, nil
}

// URL returns the parsed SAS URL.
func (b *Blob) URL() BlobURL { return b.url }

func newRequestID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}

// send performs one storage request with the SDK's standard headers.
func (b *Blob) send(ctx context.Context, method, extraQuery string, hdr http.Header, body []byte) (*response, error) {
	if hdr == nil {
		hdr = http.Header{}
	}
	hdr.Set("x-ms-version", BlobStorageVersion)
	hdr.Set("x-ms-date", b.now().UTC().Format(http.TimeFormat))
	hdr.Set("x-ms-client-request-id", newRequestID())
	return b.c.send(ctx, call{method: method, url: b.url.url(extraQuery), header: hdr, body: body})
}

// storageError is a storage service error (its XML body: Code, Message),
// as azure-storage's AzureHttpError reports it.
func (b *Blob) storageError(method string, resp *response) *errdefs.Error {
	var body struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	_ = xml.Unmarshal(resp.body, &body)
	if body.Code == "" {
		body.Code = resp.header.Get("x-ms-error-code")
	}
	msg := body.Message
	if msg == "" {
		msg = http.StatusText(resp.status)
	}
	if body.Code != "" {
		msg += " ErrorCode: " + body.Code
	}
	re := &ResponseError{StatusCode: resp.status, Method: method, URL: redactURL(b.url.url("")), Code: body.Code, Message: msg, Body: resp.body}
	return &errdefs.Error{Kind: KindForStatus(resp.status, body.Code), Reason: body.Code, Message: msg, Cause: re}
}

// ---- upload (create_blob_from_path) -----------------------------------------------------

// Upload writes size bytes of r as a block blob: one Put Blob below
// MaxSinglePutSize, otherwise Put Block of BlockSize pieces, two at a
// time, then Put Block List.
func (b *Blob) Upload(ctx context.Context, r io.ReaderAt, size int64) error {
	if size < MaxSinglePutSize {
		data := make([]byte, size)
		if _, err := r.ReadAt(data, 0); err != nil && err != io.EOF {
			return err
		}
		hdr := http.Header{"X-Ms-Blob-Type": {"BlockBlob"}}
		resp, err := b.send(ctx, http.MethodPut, "", hdr, data)
		if err != nil {
			return err
		}
		if resp.status >= 300 {
			return b.storageError(http.MethodPut, resp)
		}
		return nil
	}
	var offsets []int64
	for off := int64(0); off < size; off += BlockSize {
		offsets = append(offsets, off)
	}
	ids := make([]string, len(offsets))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
		next     = make(chan int)
	)
	for w := 0; w < blockConnections; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, BlockSize)
			for k := range next {
				n := int(min(BlockSize, size-offsets[k]))
				id, err := b.putBlock(ctx, r, offsets[k], buf[:n])
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				ids[k] = id
				mu.Unlock()
			}
		}()
	}
	for k := range offsets {
		if ctx.Err() != nil {
			break
		}
		next <- k
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	resp, err := b.send(ctx, http.MethodPut, "comp=blocklist", nil, blockListXML(ids))
	if err != nil {
		return err
	}
	if resp.status >= 300 {
		return b.storageError(http.MethodPut, resp)
	}
	return nil
}

// BlockID is the block id the storage SDK gives the block at offset, as
// sent (base64 of the url-quoted base64 of the zero-padded offset).
func BlockID(offset int64) string {
	inner := url.PathEscape(base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%032d", offset)))
	// urllib's quote keeps '/' and quotes '+' and '='; PathEscape quotes
	// '/' too and keeps '+' and '=', so fix those up.
	inner = strings.NewReplacer("%2F", "/", "+", "%2B", "=", "%3D").Replace(inner)
	return base64.StdEncoding.EncodeToString([]byte(inner))
}

func (b *Blob) putBlock(ctx context.Context, r io.ReaderAt, off int64, buf []byte) (string, error) {
	if _, err := r.ReadAt(buf, off); err != nil && err != io.EOF {
		return "", err
	}
	id := BlockID(off)
	resp, err := b.send(ctx, http.MethodPut, "comp=block&blockid="+url.QueryEscape(id), nil, buf)
	if err != nil {
		return "", err
	}
	if resp.status >= 300 {
		return "", b.storageError(http.MethodPut, resp)
	}
	return id, nil
}

// blockListXML is _convert_block_list_to_xml as ElementTree writes it.
func blockListXML(ids []string) []byte {
	var sb strings.Builder
	sb.WriteString("<?xml version='1.0' encoding='utf-8'?>\n<BlockList>")
	for _, id := range ids {
		sb.WriteString("<Latest>")
		_ = xml.EscapeText(&sb, []byte(id))
		sb.WriteString("</Latest>")
	}
	sb.WriteString("</BlockList>")
	return []byte(sb.String())
}

// ---- reading (exists, get_blob_properties, ranged get) ---------------------------------------

// BlobProperties are what a HEAD says: the size and the x-ms-meta-*
// metadata (names without the prefix).
type BlobProperties struct {
	Size     int64
	Metadata map[string]string
}

// Exists is BaseBlobService.exists: a HEAD, false on 404.
func (b *Blob) Exists(ctx context.Context) (bool, error) {
	_, err := b.Properties(ctx)
	if errdefs.IsKind(err, errdefs.NotFound) {
		return false, nil
	}
	return err == nil, err
}

// Properties is get_blob_properties.
func (b *Blob) Properties(ctx context.Context) (BlobProperties, error) {
	resp, err := b.send(ctx, http.MethodHead, "", nil, nil)
	if err != nil {
		return BlobProperties{}, err
	}
	if resp.status >= 300 {
		return BlobProperties{}, b.storageError(http.MethodHead, resp)
	}
	p := BlobProperties{Metadata: map[string]string{}}
	if n, err := strconv.ParseInt(resp.header.Get("Content-Length"), 10, 64); err == nil {
		p.Size = n
	}
	for k, v := range resp.header {
		if name, ok := cutPrefixFold(k, "x-ms-meta-"); ok && len(v) > 0 {
			p.Metadata[name] = v[0]
		}
	}
	return p, nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}

// ReadRange is a ranged get_blob_to_stream: x-ms-range bytes=start-end
// (inclusive). It returns the bytes the service sent.
func (b *Blob) ReadRange(ctx context.Context, start, end int64) ([]byte, error) {
	hdr := http.Header{"X-Ms-Range": {fmt.Sprintf("bytes=%d-%d", start, end)}}
	resp, err := b.send(ctx, http.MethodGet, "", hdr, nil)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK && resp.status != http.StatusPartialContent {
		return nil, b.storageError(http.MethodGet, resp)
	}
	return resp.body, nil
}
