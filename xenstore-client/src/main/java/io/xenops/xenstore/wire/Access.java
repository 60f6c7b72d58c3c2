package io.xenops.xenstore.wire;

/** The access letters of a permission string: {@code n}one, {@code r}ead, {@code w}rite, {@code b}oth. */
public enum Access {
    NONE('n'), READ('r'), WRITE('w'), BOTH('b');

    private final char letter;

    Access(char letter) {
        this.letter = letter;
    }

    public char letter() {
        return letter;
    }

    public boolean canRead() {
        return this == READ || this == BOTH;
    }

    public boolean canWrite() {
        return this == WRITE || this == BOTH;
    }

    public static Access ofLetter(char c) {
        return switch (c) {
            case 'n' -> NONE;
            case 'r' -> READ;
            case 'w' -> WRITE;
            case 'b' -> BOTH;
            default -> throw new IllegalArgumentException("unknown permission letter '" + c + "'");
        };
    }
}
