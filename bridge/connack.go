package bridge

import (
	"fmt"

	"github.com/eclipse/paho.golang/packets"
)

// connackReasons describe the MQTT 5 CONNACK reason codes that refuse a
// connection, as paho.golang's packets package names them, with what the
// operator should check. mosquitto 2.0.11 rejects a wrong user name or
// password with 0x87 (not authorized).
var connackReasons = map[byte]string{
	packets.ConnackUnspecifiedError:            "unspecified error",
	packets.ConnackMalformedPacket:             "malformed packet",
	packets.ConnackProtocolError:               "protocol error",
	packets.ConnackImplementationSpecificError: "implementation specific error",
	packets.ConnackUnsupportedProtocolVersion: "unsupported protocol version: " +
		"the broker must support MQTT 5",
	packets.ConnackInvalidClientID: "client identifier not valid: check broker.client_id",
	packets.ConnackBadUsernameOrPassword: "bad user name or password: " +
		"check broker.username and the password",
	packets.ConnackNotAuthorized: "not authorized: " +
		"check broker.username, the password and the broker's ACL",
	packets.ConnackServerUnavailable:       "server unavailable",
	packets.ConnackServerBusy:              "server busy",
	packets.ConnackBanned:                  "banned",
	packets.ConnackBadAuthenticationMethod: "bad authentication method",
	packets.ConnackTopicNameInvalid:        "topic name invalid",
	packets.ConnackPacketTooLarge:          "packet too large",
	packets.ConnackQuotaExceeded:           "quota exceeded",
	packets.ConnackPayloadFormatInvalid:    "payload format invalid",
	packets.ConnackRetainNotSupported:      "retain not supported",
	packets.ConnackQoSNotSupported:         "QoS not supported",
	packets.ConnackUseAnotherServer:        "use another server",
	packets.ConnackServerMoved:             "server moved",
	packets.ConnackConnectionRateExceeded:  "connection rate exceeded",
}

// connackReasonText describes a CONNACK reason code for the log.
func connackReasonText(code byte) string {
	if text, ok := connackReasons[code]; ok {
		return text
	}
	return fmt.Sprintf("reason code 0x%02X", code)
}
