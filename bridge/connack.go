package bridge

import "fmt"

// connackReasons are the CONNACK reason codes of MQTT 5.0 (section 3.2.2.2)
// that refuse a connection, with what the operator should check.
// mosquitto 2.0.11 answers a wrong user name or password with 0x87.
var connackReasons = map[byte]string{
	0x80: "unspecified error",
	0x81: "malformed packet",
	0x82: "protocol error",
	0x83: "implementation specific error",
	0x84: "unsupported protocol version: the broker must support MQTT 5",
	0x85: "client identifier not valid: check broker.client_id",
	0x86: "bad user name or password: check broker.username and the password",
	0x87: "not authorized: check broker.username, the password and the broker's ACL",
	0x88: "server unavailable",
	0x89: "server busy",
	0x8A: "banned",
	0x8C: "bad authentication method",
	0x90: "topic name invalid",
	0x95: "packet too large",
	0x97: "quota exceeded",
	0x99: "payload format invalid",
	0x9A: "retain not supported",
	0x9B: "QoS not supported",
	0x9C: "use another server",
	0x9D: "server moved",
	0x9F: "connection rate exceeded",
}

// connackReasonText describes a CONNACK reason code for the log.
func connackReasonText(code byte) string {
	if text, ok := connackReasons[code]; ok {
		return text
	}
	return fmt.Sprintf("reason code 0x%02X", code)
}
