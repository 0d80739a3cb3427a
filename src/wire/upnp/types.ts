/** Device description documents served over HTTP by IoT devices. */

/**
 * The identity fields of a device description: a UPnP device description (UDA 1.x: root element `root`, the
 * fields of its first, i.e. root, `device`; embedded devices are ignored) or a D-Link HNAP
 * GetDeviceSettings response (SOAP; VendorName → manufacturer, DeviceName → friendlyName, Type →
 * deviceType). Every value is trimmed, whitespace-collapsed, entity-decoded text of at most
 * UPNP_MAX_VALUE characters, or null when absent or empty.
 */
export interface DeviceDescription {
  format: 'upnp' | 'hnap';
  deviceType: string | null;
  friendlyName: string | null;
  manufacturer: string | null;
  modelName: string | null;
  modelNumber: string | null;
  modelDescription: string | null;
  serialNumber: string | null;
  udn: string | null;
  /** firmwareVersion, else softwareVersion (UPnP has no standard field; vendors use either). */
  firmwareVersion: string | null;
}
