package io.xenops.ctl.render;

import io.xenops.ctl.api.Fetched;
import io.xenops.ctl.api.Health;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

class JsonRendererTest {
    private static Fetched<Health> health(String body) {
        // The renderer must never decode: a decoder that fails proves it.
        return new Fetched<>(body, b -> fail("JSON output must not decode the body"));
    }

    private static String render(boolean pretty, String body) {
        StringWriter buf = new StringWriter();
        new JsonRenderer(new PrintWriter(buf), pretty).health(health(body));
        return buf.toString();
    }

    @Test
    void prettyUsesJqLayout() {
        assertThat(render(true, "{\"a\":[],\"b\":{},\"c\":[1,{\"d\":null}]}")).isEqualTo("""
                {
                  "a": [],
                  "b": {},
                  "c": [
                    1,
                    {
                      "d": null
                    }
                  ]
                }
                """);
    }

    @Test
    void numbersAndStringsPassThroughExactly() {
        String body = "{\"big\":123456789012345678901234567890,\"f\":1.50,\"s\":\"\\u00e9\\n\"}";

        assertThat(render(false, "  " + body + "\n")).isEqualTo(
                "{\"big\":123456789012345678901234567890,\"f\":1.50,\"s\":\"é\\n\"}\n");
    }
}
