package io.xenops.ctl.api;

/** Answer of POST /v1/invocations: the guest's output and the spawn's timings (the VM is gone by now). */
public record Invocation(String image, String vm, String output, Timings timings) {
}
