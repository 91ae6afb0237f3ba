/**
 * The root entry's `ccidMessages` namespace: the CCID messages' constants and both sides of their
 * codec, the host's (messages.ts, which the driver loads) and the reader's (messages-device.ts,
 * which the virtual reader and the driver console load).
 */
export * from './messages.js';
export * from './messages-device.js';
