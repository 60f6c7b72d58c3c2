package io.xenops.daemon.webhook;

import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Objects;

/**
 * What a receiver is told: ids and kinds, not whole objects (a receiver that wants details asks the API).
 */
public sealed interface WebhookEvent {
    /** The event's name on the wire: {@code ready}, {@code exited}, {@code filled}, ... */
    String event();

    Instant at();

    /** The JSON body, with the delivery id inside so a signature covers it too. */
    JsonObject toJson(String deliveryId);

    /** Something happened to a VM a client spawned ({@code ready}, {@code exited}). */
    record Vm(String event, String vm, String image, Instant at) implements WebhookEvent {
        public Vm {
            Objects.requireNonNull(event, "event");
            Objects.requireNonNull(vm, "vm");
            Objects.requireNonNull(image, "image");
            Objects.requireNonNull(at, "at");
        }

        @Override
        public JsonObject toJson(String deliveryId) {
            return new JsonObject().put("delivery", deliveryId).put("event", event).put("vm", vm).put("image", image)
                    .put("at", at.toString());
        }
    }

    /** Something happened to an image's warm pool ({@code filled}); pools are per image, so both name it. */
    record Pool(String event, String image, Instant at) implements WebhookEvent {
        public Pool {
            Objects.requireNonNull(event, "event");
            Objects.requireNonNull(image, "image");
            Objects.requireNonNull(at, "at");
        }

        @Override
        public JsonObject toJson(String deliveryId) {
            return new JsonObject().put("delivery", deliveryId).put("event", event).put("pool", image).put("image", image)
                    .put("at", at.toString());
        }
    }
}
