package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// Log levels, as knack's CliLogLevel.
const (
	levelCritical = iota
	levelError
	levelWarning
	levelInfo
	levelDebug
)

// Logger names az uses; they are shown with --debug only.
const (
	logCore     = "cli.azure.cli.core"
	logError    = "cli.azure.cli.core.azclierror"
	logPolicies = "cli.azure.cli.core.sdk.policies"
	logProfile  = "cli.azure.cli.command_modules.profile.custom"
	logResource = "cli.azure.cli.command_modules.resource.custom"
	logRole     = "cli.azure.cli.command_modules.role.custom"
	logCommands = "cli.azure.cli.core.commands"
	logKnack    = "cli.knack.cli"
)

// logger writes knack-style log lines to stderr: "WARNING: message", or
// with --debug "WARNING: cli.azure.cli...: message". Colour is never used,
// so the level name is always shown (knack hides it only when colouring).
type logger struct {
	mu    sync.Mutex
	w     io.Writer
	level int
}

func (l *logger) logf(level int, name, format string, args ...any) {
	if l == nil || level > l.level {
		return
	}
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	var label string
	switch level {
	case levelCritical:
		label = "CRITICAL"
	case levelError:
		label = "ERROR"
	case levelWarning:
		label = "WARNING"
	case levelInfo:
		label = "INFO"
	default:
		label = "DEBUG"
	}
	prefix := label + ": "
	if l.level >= levelDebug && name != "" {
		prefix += name + ": "
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s%s\n", prefix, msg)
}

func (l *logger) errorf(name, format string, args ...any) { l.logf(levelError, name, format, args...) }
func (l *logger) warnf(name, format string, args ...any)  { l.logf(levelWarning, name, format, args...) }
func (l *logger) infof(name, format string, args ...any)  { l.logf(levelInfo, name, format, args...) }
func (l *logger) debugf(name, format string, args ...any) { l.logf(levelDebug, name, format, args...) }

// printRecommendation writes a line the way azclierror prints
// recommendations: bare, on stderr, unless errors are suppressed entirely.
func (l *logger) printRecommendation(s string) {
	if l == nil || l.level < levelError {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintln(l.w, s)
}

// slogHandler routes the client's debug records into the logger.
type slogHandler struct {
	l    *logger
	name string
}

func (h slogHandler) Enabled(_ context.Context, lvl slog.Level) bool {
	switch {
	case lvl >= slog.LevelError:
		return h.l.level >= levelError
	case lvl >= slog.LevelWarn:
		return h.l.level >= levelWarning
	case lvl >= slog.LevelInfo:
		return h.l.level >= levelInfo
	}
	return h.l.level >= levelDebug
}

func (h slogHandler) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	var attrs []string
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a.Key+"="+a.Value.String())
		return true
	})
	if len(attrs) > 0 {
		msg += " " + strings.Join(attrs, " ")
	}
	level := levelDebug
	switch {
	case r.Level >= slog.LevelError:
		level = levelError
	case r.Level >= slog.LevelWarn:
		level = levelWarning
	case r.Level >= slog.LevelInfo:
		level = levelInfo
	}
	h.l.logf(level, h.name, "%s", msg)
	return nil
}

func (h slogHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h slogHandler) WithGroup(string) slog.Handler      { return h }
