/// <reference types="w3c-web-usb" preserve="true" />
// WebUSB types (USBDevice, USBDeviceFilter...) for this file and its .d.ts: see docs/packaging.md.
/**
 * How a virtual device's unplug reaches the host: the transfers pending on
 * each endpoint and on the control pipe fail, and the backend hears the
 * `disconnect` event, all at once or one step per task in a given order (a
 * real host controller completes transfers one callback at a time).
 */

/**
 * One step of a staggered unplug (see `VirtualUsbDevice.unplug`): the transfers pending on an
 * endpoint (`in` / `out` with its number, every endpoint of that direction without one), the
 * pending control transfers, or the backend's `disconnect` event.
 */
export type UnplugStep = { direction: USBDirection; endpointNumber?: number } | 'control' | 'disconnect-event';

/** How an unplug is seen by the host (see `VirtualUsbDevice.unplug`). */
export interface UnplugOptions {
  /**
   * Report the unplug in this order, each step in its own task (a `setTimeout(0)` after the
   * previous one), as a real host controller completes transfers one callback at a time.
   * Pending transfers no step names fail in a last step, then the `disconnect` event comes if
   * no step named it. Without `order`, everything fails at once inside `unplug()`.
   */
  order?: UnplugStep[];
}

/** The steps of an unplug: those asked for, then every IN and OUT endpoint and the control pipe, then the event if no step named it. */
export function unplugSteps(order: readonly UnplugStep[] = []): UnplugStep[] {
  const steps: UnplugStep[] = [...order, { direction: 'in' }, { direction: 'out' }, 'control'];
  if (!steps.includes('disconnect-event')) steps.push('disconnect-event');
  return steps;
}

/** Whether a transfer step covers a pending transfer named `in <n>`, `out <n>` or `control`. */
export function stepCovers(step: Exclude<UnplugStep, 'disconnect-event'>, key: string): boolean {
  if (step === 'control') return key === 'control';
  const [direction, n] = key.split(' ');
  return direction === step.direction && (step.endpointNumber === undefined || Number(n) === step.endpointNumber);
}

/**
 * Runs the steps one per task (a `setTimeout(0)` each, the first one too); `onDone` once all
 * ran. Returns a function that runs the steps not run yet at once (a plug during the unplug).
 */
export function runStepsStaggered(steps: readonly UnplugStep[], run: (step: UnplugStep) => void, onDone: () => void): () => void {
  let i = 0;
  const finish = (): void => {
    while (i < steps.length) run(steps[i++]!);
    onDone();
  };
  const next = (): void => {
    if (i >= steps.length) {
      onDone();
      return;
    }
    setTimeout(() => {
      if (i >= steps.length) return; // finished by a plug
      run(steps[i++]!);
      next();
    }, 0);
  };
  next();
  return finish;
}
