package io.xenops.qmp;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.Objects;

/**
 * One message QEMU sends on a QMP connection. The decoder produces exactly these four shapes and
 * rejects anything else, so a client can switch over them exhaustively.
 */
public sealed interface QmpMessage {

    /** The first message on every connection, before capabilities are negotiated. */
    record Greeting(JsonNode qmp) implements QmpMessage {
        public Greeting {
            Objects.requireNonNull(qmp, "qmp");
        }

        /** "major.minor.micro" of the QEMU on the other end, or "unknown". */
        public String version() {
            JsonNode q = qmp.path("version").path("qemu");
            if (q.isMissingNode()) return "unknown";
            return q.path("major").asInt() + "." + q.path("minor").asInt() + "." + q.path("micro").asInt();
        }
    }

    /**
     * A command succeeded.
     *
     * @param id the id the command was sent with, or null when it carried none
     * @param value the {@code return} member, often an empty object
     */
    record Return(String id, JsonNode value) implements QmpMessage {
        public Return {
            Objects.requireNonNull(value, "value");
        }
    }

    /**
     * A command failed.
     *
     * @param errorClass QMP error class, e.g. {@code GenericError}, {@code CommandNotFound}
     */
    record Error(String id, String errorClass, String description) implements QmpMessage {
        public Error {
            Objects.requireNonNull(errorClass, "errorClass");
            Objects.requireNonNull(description, "description");
        }
    }

    /**
     * An asynchronous event such as {@code STOP}, {@code RESUME} or {@code SHUTDOWN}.
     *
     * @param data the {@code data} member; an empty object when QEMU sent none
     * @param timestamp QEMU's wall-clock time for the event
     */
    record Event(String name, JsonNode data, Instant timestamp) implements QmpMessage {
        public Event {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(data, "data");
            Objects.requireNonNull(timestamp, "timestamp");
        }
    }
}
