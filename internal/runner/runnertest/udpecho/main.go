// Command udpecho answers every UDP datagram on :PORT with "echo:" and the
// datagram: the conformance suite's UDP server inside a container (busybox
// has none). Built static by the suite.
package main

import (
	"net"
	"os"
)

func main() {
	c, err := net.ListenPacket("udp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		_, _ = os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			os.Exit(1)
		}
		_, _ = c.WriteTo(append([]byte("echo:"), buf[:n]...), from)
	}
}
