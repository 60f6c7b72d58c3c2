package io.xenops.ctl.api;

public record Health(String status, String driver, String accel, String version) {
}
