//go:build system_test

package systemtests

import (
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/systemtests"
)

// startNetwork starts every node with the framework's StartChain (extra
// `repshardd start` flags in args) and returns once blocks are produced.
//
// StartChain (systemtests v1.4.0) waits for node0 in AwaitNodeUp, whose
// polling goroutine never returns: once AwaitNodeUp has returned and
// cancelled its context, the goroutine opens a websocket to the node, fails
// its status call on the cancelled context, and starts over, with no pause —
// some 600 connections a second to node0 (and as many log lines) for the
// rest of the run, a real load on a 2-core machine. So the framework is
// given node0's RPC through a forwarder on a port of its own for the length
// of StartChain, which is closed afterwards: the leftover goroutine then
// fails to connect, and waits a second before each new try. Everything else
// talks to node0 directly.
func startNetwork(t *testing.T, args ...string) {
	t.Helper()
	fwd, err := forward("127.0.0.1:" + strconv.Itoa(cometRPCBase+portOffset))
	require.NoError(t, err)
	setCometRPCAddr(systemtests.Sut, "tcp://"+fwd.addr())
	defer func() {
		fwd.close()
		setCometRPCAddr(systemtests.Sut, nodeRPC(0))
	}()
	start := time.Now()
	systemtests.Sut.StartChain(t, args...)
	t.Logf("nodes up and producing blocks after %s", time.Since(start).Round(100*time.Millisecond))
}

// forwarder relays TCP connections from a loopback port to target.
type forwarder struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func forward(target string) (*forwarder, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &forwarder{ln: ln}
	go func() {
		for {
			in, err := ln.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				continue
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				_ = in.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, in, out)
			f.mu.Unlock()
			go relay(out, in)
			go relay(in, out)
		}
	}()
	return f, nil
}

func relay(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
}

func (f *forwarder) addr() string { return f.ln.Addr().String() }

// close stops accepting and cuts every relayed connection.
func (f *forwarder) close() {
	_ = f.ln.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		_ = c.Close()
	}
}
