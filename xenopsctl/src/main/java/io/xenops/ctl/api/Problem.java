package io.xenops.ctl.api;

/** An RFC 9457 problem document, as every API error is. */
public record Problem(String type, String title, Integer status, String detail, String instance,
                      String requestId) {
}
