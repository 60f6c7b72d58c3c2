package io.xenops.daemon.api;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import io.vertx.openapi.contract.OpenAPIContract;
import io.vertx.openapi.contract.Operation;
import io.vertx.openapi.contract.Parameter;
import io.vertx.openapi.validation.RequestParameter;
import io.vertx.openapi.validation.RequestUtils;
import io.vertx.openapi.validation.ValidatableRequest;
import io.vertx.openapi.validation.ValidatedRequest;
import io.vertx.openapi.validation.ValidatorException;
import io.vertx.openapi.validation.impl.RequestValidatorImpl;
import io.vertx.openapi.validation.impl.ValidatedRequestImpl;
import java.util.HashMap;
import java.util.Map;

/**
 * The contract's request validation, run on the event loop that received the request.
 *
 * <p>vertx-openapi's own validator hands every request to {@code executeBlocking}: two thread hops and one
 * ordered worker queue per server, shared by all requests, for work that takes microseconds once the
 * schemas are compiled. On the warm spawn path those hops cost more than the hypervisor's resume, and in a
 * spawn storm the queue serialised every request. The checks are the library's own (its public
 * {@code validateParameter} and {@code validateBody}); only the thread changes.
 */
final class InlineValidator {
    private final RequestValidatorImpl validator;

    InlineValidator(Vertx vertx, OpenAPIContract contract) {
        this.validator = new RequestValidatorImpl(vertx, contract);
    }

    /**
     * Validates the request against {@code op}. Needs the body already read (a BodyHandler runs first).
     *
     * @throws HttpException 400 wrapping the {@link ValidatorException}, as the library's route handler fails
     */
    ValidatedRequest validate(RoutingContext rc, Operation op) {
        Future<ValidatableRequest> extracted = RequestUtils.extract(rc.request(), op,
                () -> Future.succeededFuture(rc.body().buffer()));
        try {
            if (!extracted.isComplete()) {
                // Only a body still being read would leave it pending, and the BodyHandler ahead of us rules that out.
                throw new IllegalStateException("request of " + op.getOperationId() + " extracted asynchronously");
            }
            if (extracted.failed()) {
                if (extracted.cause() instanceof RuntimeException e) throw e;
                throw new IllegalStateException(extracted.cause());
            }
            ValidatableRequest req = extracted.result();
            Map<String, RequestParameter> cookies = new HashMap<>(req.getCookies().size());
            Map<String, RequestParameter> headers = new HashMap<>(req.getHeaders().size());
            Map<String, RequestParameter> path = new HashMap<>(req.getPathParameters().size());
            Map<String, RequestParameter> query = new HashMap<>(req.getQuery().size());
            for (Parameter p : op.getParameters()) {
                String name = p.getName();
                switch (p.getIn()) {
                    case COOKIE -> cookies.put(name, validator.validateParameter(p, req.getCookies().get(name)));
                    case HEADER -> headers.put(name, validator.validateParameter(p, req.getHeaders().get(name)));
                    case PATH -> path.put(name, validator.validateParameter(p, req.getPathParameters().get(name)));
                    case QUERY -> query.put(name, validator.validateParameter(p, req.getQuery().get(name)));
                }
            }
            return new ValidatedRequestImpl(cookies, headers, path, query, validator.validateBody(op.getRequestBody(), req));
        } catch (ValidatorException e) {
            throw new HttpException(400, e.getMessage(), e);
        }
    }
}
