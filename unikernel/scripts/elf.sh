# Helpers to inspect a kernel ELF with binutils and coreutils only; sourced by
# build.sh and check.sh.

# Xen ELF note types (xen/include/public/elfnote.h) the images carry.
XEN_NOTE_ENTRY=1
XEN_NOTE_HYPERCALL_PAGE=2
XEN_NOTE_VIRT_BASE=3
XEN_NOTE_PADDR_OFFSET=4
XEN_NOTE_XEN_VERSION=5
XEN_NOTE_GUEST_OS=6
XEN_NOTE_LOADER=8
XEN_NOTE_FEATURES=10
XEN_NOTE_PHYS32_ENTRY=18

# Prints one line per note in the PT_NOTE segments of $1:
#   <owner> <type> <descsz> <value>
# value is the little-endian number for numeric notes and the text for string ones.
elf_notes() {
    local elf=$1 off size
    while read -r off size; do
        local -a b
        # shellcheck disable=SC2207
        b=($(od -An -v -tx1 -j $((off)) -N $((size)) "$elf"))
        local i=0 n=${#b[@]}
        while (( i + 12 <= n )); do
            local namesz descsz type name="" value="" k
            namesz=$((16#${b[i+3]}${b[i+2]}${b[i+1]}${b[i]}))
            descsz=$((16#${b[i+7]}${b[i+6]}${b[i+5]}${b[i+4]}))
            type=$((16#${b[i+11]}${b[i+10]}${b[i+9]}${b[i+8]}))
            i=$((i + 12))
            for ((k = 0; k < namesz; k++)); do
                [[ ${b[i+k]} == 00 ]] && break
                name+=$(printf "\\x${b[i+k]}")
            done
            i=$((i + (namesz + 3) / 4 * 4))
            case $type in
                1|2|3|4|18)
                    value=0x
                    for ((k = descsz - 1; k >= 0; k--)); do value+=${b[i+k]}; done
                    value=$(printf '0x%x' "$value")
                    ;;
                *)
                    for ((k = 0; k < descsz; k++)); do
                        [[ ${b[i+k]} == 00 ]] && break
                        value+=$(printf "\\x${b[i+k]}")
                    done
                    ;;
            esac
            echo "$name $type $descsz $value"
            i=$((i + (descsz + 3) / 4 * 4))
        done
    done < <(readelf -lW "$elf" | awk '$1 == "NOTE" { print $2, $5 }')
}

# Value of Xen note $2 in ELF $1, empty when absent.
xen_note() {
    elf_notes "$1" | awk -v t="$2" '$1 == "Xen" && $2 == t { $1 = $2 = $3 = ""; sub(/^ +/, ""); print; exit }'
}

# Descriptor size of Xen note $2 in ELF $1.
xen_note_size() {
    elf_notes "$1" | awk -v t="$2" '$1 == "Xen" && $2 == t { print $3; exit }'
}

# Boot modes an image supports, from the notes it carries, as a JSON array body.
boot_modes_json() {
    local elf=$1 modes=()
    [[ -n $(xen_note "$elf" $XEN_NOTE_PHYS32_ENTRY) ]] && modes+=('"pvh"')
    if [[ -n $(xen_note "$elf" $XEN_NOTE_ENTRY) && $(xen_note "$elf" $XEN_NOTE_XEN_VERSION) == xen-3.0 ]]; then
        modes+=('"pv"')
    fi
    local IFS=,
    echo "${modes[*]}"
}

# Lines "<address> <mnemonic and operands>" of every SSE, AVX, MMX or x87 instruction
# in $1. Register operands catch the vector units; x87 and FPU-state instructions
# all have mnemonics starting with f; the rest touch MXCSR or FPU state by name.
vector_instructions() {
    local elf=$1 start end
    # The PVH entry runs in 32-bit mode until it reaches pvh_long_mode; decoding it as
    # 64-bit code would invent instructions out of its operands.
    start=$(nm "$elf" | awk '$3 == "_pvh_start" { print "0x" $1 }')
    end=$(nm "$elf" | awk '$3 == "pvh_long_mode" { print "0x" $1 }')
    if [[ -z $start || -z $end ]]; then
        echo "? symbols _pvh_start and pvh_long_mode missing: cannot split 32-bit code"
        return
    fi
    {
        objdump -d --no-show-raw-insn -M att --stop-address="$start" "$elf"
        objdump -d --no-show-raw-insn -M att,i386 --start-address="$start" --stop-address="$end" "$elf"
        objdump -d --no-show-raw-insn -M att --start-address="$end" "$elf"
    } | vector_filter
}

# Filters objdump -d output down to the vector and x87 instructions in it.
vector_filter() {
    awk -F'\t' 'NF >= 2 && $1 ~ /^ *[0-9a-f]+:$/ {
            insn = $2
            if (insn ~ /%(x|y|z)mm[0-9]/ || insn ~ /%mm[0-7]/ || insn ~ /%st([^a-z]|$)/ ||
                insn ~ /^f[a-z0-9]*( |$)/ ||
                insn ~ /^(ldmxcsr|stmxcsr|emms|movnti|xsave[a-z0-9]*|xrstor[a-z0-9]*|vzero[a-z]*)( |$)/)
                print $1, insn
        }'
}
