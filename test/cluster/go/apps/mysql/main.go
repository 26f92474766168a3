// mysql: a stand-in for the seed's mysql:5.6 pod. It listens on :3306 and greets every
// connection with a MySQL protocol-10 handshake packet, which is what a client sees first
// from a real server; it does not implement authentication or queries.
package main

import (
	"encoding/binary"
	"log"
	"net"
	"time"
)

const serverVersion = "5.6.51-netdoctor-stub"

func greeting(connID uint32) []byte {
	var p []byte
	p = append(p, 10) // protocol version
	p = append(p, serverVersion...)
	p = append(p, 0)
	p = binary.LittleEndian.AppendUint32(p, connID)
	p = append(p, "abcdefgh"...) // auth-plugin-data part 1
	p = append(p, 0)             // filler
	p = binary.LittleEndian.AppendUint16(p, 0xf7ff)
	p = append(p, 8)                                // character set: latin1
	p = binary.LittleEndian.AppendUint16(p, 0x0002) // status: autocommit
	p = binary.LittleEndian.AppendUint16(p, 0x8000)
	p = append(p, 21) // auth-plugin-data length
	p = append(p, make([]byte, 10)...)
	p = append(p, "ijklmnopqrst"...)
	p = append(p, 0)
	p = append(p, "mysql_native_password"...)
	p = append(p, 0)
	hdr := []byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), 0}
	return append(hdr, p...)
}

func main() {
	ln, err := net.Listen("tcp", ":3306")
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("mysql stub %s: ready for connections on port 3306", serverVersion)
	var id uint32
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		id++
		go func(c net.Conn, id uint32) {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write(greeting(id)); err != nil {
				log.Printf("connection %d from %s: %v", id, c.RemoteAddr(), err)
				return
			}
			log.Printf("connection %d from %s: greeted", id, c.RemoteAddr())
			buf := make([]byte, 512)
			_, _ = c.Read(buf) // wait for the client to answer or hang up
		}(c, id)
	}
}
