/** MQTT CONNECT (3.1 "MQIsdp" level 3, 3.1.1 level 4, 5.0 level 5). */

export interface MqttConnectFlags {
  cleanSession: boolean;
  will: boolean;
  willQos: number;
  willRetain: boolean;
  password: boolean;
  username: boolean;
}

export interface MqttConnect {
  protocolName: string;
  protocolLevel: number;
  /** "3.1", "3.1.1", "5.0", or "unknown". */
  protocolVersion: string;
  flags: MqttConnectFlags;
  keepAlive: number;
  clientId: string;
  willTopic: string | null;
  /** A user name was sent (its value is not kept). */
  usernamePresent: boolean;
  /** A password was sent (its value is never kept). */
  passwordPresent: boolean;
  /** Remaining length from the fixed header. */
  remainingLength: number;
}
