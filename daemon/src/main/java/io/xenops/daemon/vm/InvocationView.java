package io.xenops.daemon.vm;

/** The answer to one invocation. */
public record InvocationView(String image, String vm, String output, Timings timings) {}
