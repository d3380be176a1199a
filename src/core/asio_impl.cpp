// The one translation unit that compiles Asio, Asio SSL and Beast (separate compilation):
// every other file includes their headers without their implementations, which keeps
// rebuilds of the rest of the tree fast.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
