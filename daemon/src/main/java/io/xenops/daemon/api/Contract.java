package io.xenops.daemon.api;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Reads api-spec/openapi.yaml from the classpath and adapts it for Vert.x's OpenAPI router.
 *
 * <p>The published contract declares error bodies as {@code application/problem+json} (RFC 9457) and the
 * event stream as {@code text/event-stream}, which vertx-openapi 5.0 refuses to load ("unsupported media
 * type"). It validates requests only, never responses, so the adapted copy drops response bodies of media
 * types it does not know; everything it does check (paths, parameters, request bodies) is the contract as
 * written.
 */
public final class Contract {
    static final String PROBLEM_JSON = "application/problem+json";

    private final ClassLoader loader;

    public Contract(ClassLoader loader) { this.loader = loader; }

    /** The contract as written, as JSON. */
    public JsonObject published() {
        try (InputStream in = loader.getResourceAsStream(ApiServer.CONTRACT)) {
            if (in == null) throw new IllegalStateException(ApiServer.CONTRACT + " is not on the classpath (is api-spec built?)");
            Map<String, Object> tree = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
            return new JsonObject(tree);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + ApiServer.CONTRACT + ": " + e.getMessage(), e);
        }
    }

    /** The contract with problem+json response bodies removed, for the router. */
    public JsonObject forRouter() {
        JsonObject c = published().copy();
        JsonObject paths = c.getJsonObject("paths", new JsonObject());
        for (String p : paths.fieldNames()) {
            JsonObject item = paths.getJsonObject(p);
            for (String method : item.fieldNames()) {
                if (item.getValue(method) instanceof JsonObject op && op.containsKey("responses")) {
                    stripResponses(op.getJsonObject("responses"));
                }
            }
        }
        JsonObject responses = c.getJsonObject("components", new JsonObject()).getJsonObject("responses");
        if (responses != null) stripResponses(responses);
        return c;
    }

    private static void stripResponses(JsonObject responses) {
        for (String code : responses.fieldNames()) {
            if (responses.getValue(code) instanceof JsonObject r && r.getValue("content") instanceof JsonObject content) {
                for (String type : java.util.List.copyOf(content.fieldNames())) {
                    if (!io.vertx.openapi.contract.MediaType.isMediaTypeSupported(type)) content.remove(type);
                }
                if (content.isEmpty()) r.remove("content");
            }
        }
    }
}
