# examples.bash - the examples of the man pages and README, as the reader
# sees them, for t/41xx tests that run them verbatim.
#
# In a man page, an example is a `.Bd -literal` block; the line before it
# is a comment saying what becomes of it:
#     .\" test: NAME              run by a test, which looks it up by NAME
#     .\" not run: REASON         not run (a terminal, a daemon...): say why
# In the README, an example is a ```sh or ```console fenced block (a plain
# ``` block is text, such as the layout), after a line
#     <!-- test: NAME -->   or   <!-- not run: REASON -->
#
#   examples_extract DIR FILE...   each marked block to DIR/NAME (its text,
#                                  mdoc escapes undone); DIR/.notrun gets
#                                  "FILE:LINE REASON" lines, DIR/.unmarked
#                                  "FILE:LINE" of blocks with no comment
#   example DIR NAME               print DIR/NAME (fails if there is none)

examples_extract() {
	local dir=$1 f
	shift
	mkdir -p "$dir"
	: >"$dir/.notrun"
	: >"$dir/.unmarked"
	for f in "$@"; do
		awk -v dir="$dir" -v file="$f" '
		function unescape(s) {
			# mdoc: \e is a backslash, \& a zero-width space
			gsub(/\\&/, "", s)
			gsub(/\\e/, "\\", s)
			gsub(/\\\(aq/, "'\''", s)
			return s
		}
		function mark(s) {
			if (s ~ /^\.\\" test: [a-z0-9-]+$/ || s ~ /^<!-- test: [a-z0-9-]+ -->$/) {
				sub(/^(\.\\" |<!-- )test: /, "", s); sub(/ -->$/, "", s)
				return "test " s
			}
			if (s ~ /^\.\\" not run: ./ || s ~ /^<!-- not run: .* -->$/) {
				sub(/^(\.\\" |<!-- )not run: /, "", s); sub(/ -->$/, "", s)
				return "skip " s
			}
			return ""
		}
		function start(kind) {
			m = mark(prev)
			inblock = kind; out = ""
			if (m ~ /^test /) {
				out = dir "/" substr(m, 6)
				if (seen[out]++) { print file ":" NR " duplicate name " out > "/dev/stderr"; bad = 1 }
				printf "" > out
			} else if (m ~ /^skip /)
				print file ":" NR " " substr(m, 6) >> (dir "/.notrun")
			else
				print file ":" NR >> (dir "/.unmarked")
		}
		inblock == "" && /^\.Bd -literal/ { start("man"); next }
		inblock == "" && /^```(sh|console)$/ { start("md"); next }
		inblock == "man" && /^\.Ed/ { inblock = ""; prev = $0; next }
		inblock == "md" && /^```/ { inblock = ""; prev = $0; next }
		inblock != "" {
			if (out != "")
				print (inblock == "man" ? unescape($0) : $0) >> out
			next
		}
		{ prev = $0 }
		END { exit bad }
		' "$f" || return 1
	done
}

example() {
	[ -f "$1/$2" ] || { echo "no example named $2" >&2; return 1; }
	cat "$1/$2"
}
