package io.xenops.ctl.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The API's JSON conventions in one place: snake_case names, unknown fields ignored (a newer daemon
 * may add some), nulls left out of requests. The mapper is built on first use, because building it
 * costs more start-up time than the rest of a typical command.
 */
public final class JsonCodec {
    private ObjectMapper mapper;

    private ObjectMapper mapper() {
        if (mapper == null) {
            mapper = JsonMapper.builder()
                    .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                    .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL,
                            JsonInclude.Include.NON_NULL))
                    .build();
        }
        return mapper;
    }

    public <T> T read(String json, Class<T> type) {
        try {
            T value = mapper().readValue(json, type);
            if (value == null) {
                throw new UnexpectedResponseException("xenopsd sent an empty " + type.getSimpleName(), null);
            }
            return value;
        } catch (JacksonException e) {
            throw new UnexpectedResponseException("xenopsd sent a " + type.getSimpleName()
                    + " this xenopsctl cannot read: " + e.getOriginalMessage(), e);
        }
    }

    public String write(Object value) {
        try {
            return mapper().writeValueAsString(value);
        } catch (JacksonException e) {
            throw new IllegalStateException("cannot encode " + value, e);
        }
    }
}
