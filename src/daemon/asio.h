// The Boost.Asio headers the daemon uses, in one place.
//
// GCC 12 reports -Wnull-dereference inside Asio's scheduler once it is inlined into our
// files (a flow-analysis warning that the system-header exemption misses); it is Asio's
// code, not ours, so it is silenced for these headers only.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#pragma GCC diagnostic pop
