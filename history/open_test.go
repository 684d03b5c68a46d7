package history

import (
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// fakeServer listens on 127.0.0.1 and answers every connection like a
// PostgreSQL server that asks for a cleartext password and rejects it. It
// returns the address and a function returning the passwords it received.
func fakeServer(t *testing.T) (addr string, received func() []string) {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu        sync.Mutex
		passwords []string
		wg        sync.WaitGroup
	)
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer conn.Close()
				be := pgproto3.NewBackend(conn, conn)
				msg, err := be.ReceiveStartupMessage()
				if err != nil {
					return
				}
				if _, ok := msg.(*pgproto3.SSLRequest); ok {
					if _, err := conn.Write([]byte("N")); err != nil {
						return
					}
					if msg, err = be.ReceiveStartupMessage(); err != nil {
						return
					}
				}
				if _, ok := msg.(*pgproto3.StartupMessage); !ok {
					return
				}
				be.Send(&pgproto3.AuthenticationCleartextPassword{})
				if be.Flush() != nil {
					return
				}
				pm, err := be.Receive()
				if err != nil {
					return
				}
				if p, ok := pm.(*pgproto3.PasswordMessage); ok {
					mu.Lock()
					passwords = append(passwords, p.Password)
					mu.Unlock()
				}
				be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "28P01",
					Message: `password authentication failed for user "metricgate"`})
				_ = be.Flush()
			})
		}
	})
	return ln.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), passwords...)
	}
}

func TestOpenErrorsHidePassword(t *testing.T) {
	t.Parallel()
	const password = "Sup3r-S3cret_pw"
	addr, received := fakeServer(t)
	closed, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close() // nothing listens there any more

	tests := []struct {
		name, url string
		want      []string // in the error
	}{
		{"bad password", "postgres://metricgate:" + password + "@" + addr + "/history?sslmode=disable&connect_timeout=10",
			[]string{"open history database 127.0.0.1:", "/history: ", "28P01"}},
		{"key=value", "host=127.0.0.1 port=" + addr[strings.LastIndex(addr, ":")+1:] +
			" dbname=history user=metricgate sslmode=disable password=" + password,
			[]string{"open history database 127.0.0.1:", "/history: ", "password authentication failed"}},
		{"refused", "postgres://metricgate:" + password + "@" + closedAddr + "/history?sslmode=disable",
			[]string{"open history database " + closedAddr + "/history: "}},
		{"bad URL", "postgres://metricgate:" + password + "@127.0.0.1:notaport/history",
			[]string{"open history database: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Open(t.Context(), tt.url)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			if strings.Contains(msg, password) {
				t.Errorf("error contains the password: %s", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
	t.Cleanup(func() {
		// The server must have been asked: the password did reach it, and
		// was rejected, so the test exercised an authentication failure.
		got := received()
		if len(got) < 2 || got[0] != password {
			t.Errorf("fake server received passwords %q, want %q from both attempts", got, password)
		}
	})
}

func TestRedact(t *testing.T) {
	t.Parallel()
	cause := errors.New(`parse "postgres://u:pw123@h:x/db": invalid port`)
	err := hideSecret(cause, "pw123")
	if strings.Contains(err.Error(), "pw123") || !strings.Contains(err.Error(), "u:xxxxx@h") {
		t.Errorf("redact = %q", err)
	}
	if !errors.Is(err, cause) {
		t.Error("redacted error lost its cause")
	}
	for _, secret := range []string{"absent", ""} {
		// Unchanged: still the cause, with the cause's message.
		if got := hideSecret(cause, secret); !errors.Is(got, cause) || got.Error() != cause.Error() {
			t.Errorf("hideSecret(cause, %q) = %q, changed an error without the secret", secret, got)
		}
	}
}
