package io.xenops.ctl.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The API's JSON conventions in one place, on Jackson's streaming layer only.
 *
 * <p>Why not jackson-databind: a CLI pays for its libraries on every run. Measured on an `ls`,
 * building an ObjectMapper and its record deserializers was about a fifth of the whole command,
 * class-data sharing included. The API's documents are flat records of strings, numbers, lists and
 * string maps, so a small binder covers them: response records are filled by component name
 * (camelCase component = snake_case field), unknown fields are skipped (a newer daemon may add
 * some), and anything of the wrong shape is an {@link UnexpectedResponseException}. The two request
 * bodies are written explicitly.
 */
public final class JsonCodec {
    private final JsonFactory factory = new JsonFactory();

    /** Decodes one document into {@code type}, a record whose components are supported types. */
    public <T extends Record> T read(String json, Class<T> type) {
        try (JsonParser p = factory.createParser(json)) {
            if (p.nextToken() == null) {
                throw new Mismatch("an empty body");
            }
            T value = type.cast(value(p, type));
            if (value == null) {
                throw new Mismatch("null");
            }
            if (p.nextToken() != null) {
                throw new Mismatch("trailing content after the document");
            }
            return value;
        } catch (JacksonException e) {
            throw new UnexpectedResponseException("xenopsd sent a " + type.getSimpleName()
                    + " this xenopsctl cannot read: " + e.getOriginalMessage(), e);
        } catch (Mismatch e) {
            throw new UnexpectedResponseException("xenopsd sent a " + type.getSimpleName()
                    + " this xenopsctl cannot read: " + e.getMessage(), null);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a String does no I/O
        }
    }

    /** Body of POST /v1/vms; absent options are left out so the daemon's defaults apply. */
    public String write(SpawnRequest r) {
        return generate(g -> {
            g.writeStringField("image", r.image());
            if (r.waitFor() != null) {
                g.writeStringField("wait", r.waitFor());
            }
            if (r.args() != null) {
                g.writeStringField("args", r.args());
            }
            if (r.timeoutMs() != null) {
                g.writeNumberField("timeout_ms", r.timeoutMs());
            }
        });
    }

    /** Body of PUT /v1/pools/{image}. */
    public String write(PoolTarget t) {
        return generate(g -> g.writeNumberField("target", t.target()));
    }

    /** Body of POST /v1/invocations; absent options are left out so the daemon's defaults apply. */
    public String write(InvocationRequest r) {
        return generate(g -> {
            g.writeStringField("image", r.image());
            if (r.input() != null) {
                g.writeStringField("input", r.input());
            }
            if (r.timeoutMs() != null) {
                g.writeNumberField("timeout_ms", r.timeoutMs());
            }
        });
    }

    /**
     * A body of string fields, given as name, value pairs; null values are left out. The image
     * requests (import, pull, push) are all of this shape.
     */
    public String writeStrings(String... namesAndValues) {
        return generate(g -> {
            for (int i = 0; i < namesAndValues.length; i += 2) {
                if (namesAndValues[i + 1] != null) {
                    g.writeStringField(namesAndValues[i], namesAndValues[i + 1]);
                }
            }
        });
    }

    /** Body of POST /v1/images/gc. */
    public String writeBudget(long budgetBytes) {
        return generate(g -> g.writeNumberField("budget_bytes", budgetBytes));
    }

    private interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    private String generate(Fields fields) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = factory.createGenerator(out)) {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    /** The current token, read as {@code type}. */
    private Object value(JsonParser p, Type type) throws IOException {
        Class<?> raw = type instanceof ParameterizedType pt ? (Class<?>) pt.getRawType() : (Class<?>) type;
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) {
            if (raw.isPrimitive()) {
                throw new Mismatch("null where a number is required");
            }
            return null;
        }
        if (raw == String.class) {
            // Scalars only; a daemon may send a driver fact such as a pid as a number.
            if (t == JsonToken.VALUE_STRING || t.isNumeric() || t.isBoolean()) {
                return p.getText();
            }
            throw new Mismatch(describe(t) + " where text is expected");
        }
        if (raw == Integer.class || raw == int.class || raw == Long.class || raw == long.class) {
            if (t != JsonToken.VALUE_NUMBER_INT) {
                throw new Mismatch(describe(t) + " where a whole number is expected");
            }
            return raw == Long.class || raw == long.class ? p.getLongValue() : (Object) p.getIntValue();
        }
        if (raw == Double.class || raw == double.class) {
            // A task's progress: the daemon writes 0 and 1 as whole numbers, fractions as decimals.
            if (!t.isNumeric()) {
                throw new Mismatch(describe(t) + " where a number is expected");
            }
            return p.getDoubleValue();
        }
        if (raw == Boolean.class || raw == boolean.class) {
            if (!t.isBoolean()) {
                throw new Mismatch(describe(t) + " where true or false is expected");
            }
            return p.getBooleanValue();
        }
        if (raw == List.class) {
            expect(t, JsonToken.START_ARRAY, "a list");
            Type element = ((ParameterizedType) type).getActualTypeArguments()[0];
            List<Object> list = new ArrayList<>();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                list.add(value(p, element));
            }
            return list;
        }
        if (raw == Map.class) {
            expect(t, JsonToken.START_OBJECT, "an object");
            Type valueType = ((ParameterizedType) type).getActualTypeArguments()[1];
            Map<String, Object> map = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                map.put(key, value(p, valueType));
            }
            return map;
        }
        if (raw.isRecord()) {
            return record(p, raw);
        }
        throw new IllegalStateException("JsonCodec cannot decode " + type);
    }

    private Object record(JsonParser p, Class<?> type) throws IOException {
        expect(p.currentToken(), JsonToken.START_OBJECT, "an object");
        RecordComponent[] components = type.getRecordComponents();
        Map<String, Integer> index = new HashMap<>();
        Class<?>[] types = new Class<?>[components.length];
        for (int i = 0; i < components.length; i++) {
            index.put(snakeCase(components[i].getName()), i);
            types[i] = components[i].getType();
        }
        Object[] args = new Object[components.length];
        boolean[] seen = new boolean[components.length];
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            Integer i = index.get(p.currentName());
            p.nextToken();
            if (i == null) {
                p.skipChildren();
                continue;
            }
            args[i] = value(p, components[i].getGenericType());
            seen[i] = true;
        }
        for (int i = 0; i < components.length; i++) {
            if (types[i].isPrimitive() && !seen[i]) {
                throw new Mismatch("no " + snakeCase(components[i].getName()));
            }
        }
        try {
            Constructor<?> canonical = type.getDeclaredConstructor(types);
            return canonical.newInstance(args);
        } catch (InvocationTargetException e) {
            throw new Mismatch(String.valueOf(e.getCause().getMessage()));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot build " + type.getName(), e);
        }
    }

    private static void expect(JsonToken actual, JsonToken expected, String what) throws Mismatch {
        if (actual != expected) {
            throw new Mismatch(describe(actual) + " where " + what + " is expected");
        }
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "a list";
            case VALUE_STRING -> "text";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            default -> String.valueOf(t);
        };
    }

    /** memoryMib -> memory_mib: the API's field names from the records' component names. */
    static String snakeCase(String camel) {
        StringBuilder sb = new StringBuilder(camel.length() + 4);
        for (int i = 0; i < camel.length(); i++) {
            char c = camel.charAt(i);
            if (Character.isUpperCase(c)) {
                sb.append('_').append(Character.toLowerCase(c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** A document of the wrong shape; carries only a message, no stack trace is needed. */
    private static final class Mismatch extends IOException {
        Mismatch(String message) {
            super(message, null);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }
}
