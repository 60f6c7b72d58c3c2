package io.xenops.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.xenops.driver.sim.SimDriver;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Regression test for a FuzzApiTest finding: query values the contract's validator accepts as integers (1e3, 2.0,
 * values with a leading or trailing space such as since=+-1, which decodes to " -1", and integers beyond a long)
 * used to pass validation and then make ApiServer.queryLong's Long.parseLong throw, answering 500 internal.
 * Each must be a 400 problem or be taken as the integer it denotes; never 500.
 */
class FuzzEventsQueryIntegerTest {
    @ParameterizedTest
    @ValueSource(strings = {"since=1e3", "since=2.0", "since=99999999999999999999", "timeout_ms=1e2", "max=1e2", "max=10.0",
        "since=+-1", "since=%20-1", "since=%205", "max=+10", "since=5%20"})
    void integerLikeQueryValuesAreNever500(String query) throws Exception {
        try (SimDaemon d = new SimDaemon(Map.of("hello", 0), true, SimDriver.Faults.none(), null, null)) {
            HttpResponse<String> r = d.send("GET", "/v1/events?" + query, null);
            assertThat(r.statusCode()).as("%s -> %s", query, r.body()).isIn(200, 400);
            if (r.statusCode() == 400) {
                assertThat(r.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            }
        }
    }

    /** Last-Event-ID's pattern ^[0-9]{1,19}$ admits 9999999999999999999, which overflows a long: also a 500. */
    @ParameterizedTest
    @ValueSource(strings = {"9999999999999999999", "9223372036854775808"})
    void anOverflowingLastEventIdIsNot500(String lastId) throws Exception {
        try (SimDaemon d = new SimDaemon(Map.of("hello", 0), true, SimDriver.Faults.none(), null, null)) {
            var req = java.net.http.HttpRequest.newBuilder(java.net.URI.create(d.base + "/v1/events/stream"))
                    .header("Last-Event-ID", lastId).timeout(java.time.Duration.ofSeconds(10)).GET().build();
            // ofInputStream: returns on the headers, so a 200 event stream does not hold the test open.
            HttpResponse<java.io.InputStream> r = d.http.send(req, HttpResponse.BodyHandlers.ofInputStream());
            r.body().close();
            assertThat(r.statusCode()).as("Last-Event-ID %s", lastId).isIn(200, 400);
        }
    }
}
