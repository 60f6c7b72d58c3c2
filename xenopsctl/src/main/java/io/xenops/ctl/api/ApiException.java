package io.xenops.ctl.api;

/**
 * The daemon answered with an error status. {@code problem} is null when the body was not a
 * problem document (e.g. a proxy's HTML page), in which case the message falls back to the body.
 */
public final class ApiException extends RuntimeException {
    private static final int MAX_BODY_IN_MESSAGE = 200;

    private final int status;
    private final transient Problem problem;
    private final String body;

    public ApiException(int status, Problem problem, String body) {
        super(describe(status, problem, body));
        this.status = status;
        this.problem = problem;
        this.body = body == null ? "" : body;
    }

    public int status() {
        return status;
    }

    /** The parsed problem document, or null when the daemon sent something else. */
    public Problem problem() {
        return problem;
    }

    /** The response body exactly as received, for --json output. */
    public String body() {
        return body;
    }

    private static String describe(int status, Problem problem, String body) {
        if (problem != null) {
            // detail names the specific thing ("unknown image 'nope'"); title is the generic class.
            String text = firstNonBlank(problem.detail(), problem.title(), problem.type());
            if (text != null) {
                return text + " (" + status + ")";
            }
        }
        String trimmed = body == null ? "" : body.strip();
        if (trimmed.isEmpty()) {
            return "xenopsd answered HTTP " + status + " with no details";
        }
        String firstLine = trimmed.lines().findFirst().orElse("");
        if (firstLine.length() > MAX_BODY_IN_MESSAGE) {
            firstLine = firstLine.substring(0, MAX_BODY_IN_MESSAGE) + "...";
        }
        return "xenopsd answered HTTP " + status + ": " + firstLine;
    }

    private static String firstNonBlank(String... candidates) {
        for (String c : candidates) {
            if (c != null && !c.isBlank()) {
                return c.strip();
            }
        }
        return null;
    }
}
